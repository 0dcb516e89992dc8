"""Serves the Flask app with waitress (a production WSGI server) on a background thread.

The controller process also runs the MQTT link and the job scheduler, so the web server must not own the
main thread; it knows nothing of what the app does.
"""

import logging
import threading

from flask import Flask
from waitress import create_server, wasyncore
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.trigger import trigger

log = logging.getLogger(__name__)


class WebServer:
    """A waitress server for one app on one host and port."""

    def __init__(
        self, app: Flask, *, host: str, port: int, threads: int = 8, trusted_proxies: int = 0
    ) -> None:
        # X-Forwarded-* headers are dropped unless proxies are trusted; then the app's ProxyFix reads them.
        self._server: BaseWSGIServer | MultiSocketServer = create_server(
            app, host=host, port=port, threads=threads, ident="loaxa",
            clear_untrusted_proxy_headers=not trusted_proxies,
        )  # fmt: skip
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)

    @property
    def port(self) -> int:
        """The port actually bound (useful when 0 was asked for)."""
        return int(getattr(self._server, "effective_port", 0))

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()
        log.info("web server listening on port %s", self.port)

    def stop(self) -> None:
        """Let the requests in flight finish, then close every connection and stop serving."""
        self._server.task_dispatcher.shutdown()  # waits for the handler threads, at most 5 s
        server = self._server
        sockets = server.map if isinstance(server, MultiSocketServer) else server._map
        if not self._thread.is_alive():
            wasyncore.close_all(sockets)
            return
        # Closing sockets from this thread while the server thread waits on them in select() makes that
        # select fail (EBADF) there, and leaves open connections unclosed. A thunk handed to waitress's
        # trigger runs on the server thread, between two selects; with its map empty, the loop ends.
        wake = next(d for d in list(sockets.values()) if isinstance(d, trigger))
        wake.pull_trigger(lambda: wasyncore.close_all(sockets))
        self._thread.join(timeout=5)
