"""The controller's waitress server stops cleanly with requests in flight and connections left open.

pytest turns an exception in the server thread and an unclosed socket into errors (filterwarnings), so
these tests fail on the shutdown that closed sockets under the server thread's select().
"""

import socket
import threading
import urllib.request

from flask import Flask

from tests.support.services import free_port
from web.server import WebServer


def test_stop_finishes_a_request_in_flight_and_closes_idle_connections() -> None:
    app = Flask(__name__)
    entered, release = threading.Event(), threading.Event()

    @app.get("/slow")
    def slow() -> str:
        entered.set()
        release.wait(5)
        return "done"

    server = WebServer(app, host="127.0.0.1", port=free_port())
    server.start()
    idle = socket.create_connection(("127.0.0.1", server.port))  # a keep-alive client that went quiet
    answers: list[str] = []
    client = threading.Thread(
        target=lambda: answers.append(
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/slow", timeout=10).read().decode()
        )
    )
    client.start()
    assert entered.wait(5)
    threading.Timer(0.3, release.set).start()  # the handler ends while stop() waits for it
    server.stop()
    client.join(10)
    try:
        assert answers == ["done"], "the request in flight was answered before the server closed"
        idle.settimeout(5)
        assert idle.recv(1) == b"", "the idle connection was closed by the server"
    finally:
        idle.close()


def test_stop_without_start_closes_the_listener() -> None:
    server = WebServer(Flask(__name__), host="127.0.0.1", port=free_port())
    port = server.port
    server.stop()
    probe = socket.socket()
    try:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    finally:
        probe.close()
