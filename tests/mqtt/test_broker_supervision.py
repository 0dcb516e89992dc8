"""The managed mosquitto is supervised: restarted when it dies, and it dies with the controller."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from controller.children import Supervisor
from controller.mqtt.accounts import BrokerAccount, hash_password
from controller.mqtt.broker import ManagedBroker
from tests.support.services import free_port

ACCOUNTS = [BrokerAccount("loaxa-controller", hash_password("secret"), "controller")]


def _pid(broker: ManagedBroker, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while not broker.pid_path.exists():
        assert time.monotonic() < deadline, "mosquitto wrote no pid file"
        time.sleep(0.05)
    return int(broker.pid_path.read_text())


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


def test_a_killed_broker_is_started_again_on_its_port(tmp_path: Path) -> None:
    broker = ManagedBroker(tmp_path / "broker", port=free_port())
    broker.reload(ACCOUNTS)
    supervisor = Supervisor(broker)
    supervisor.start()
    try:
        first = _pid(broker)
        os.kill(first, signal.SIGKILL)
        _wait(lambda: supervisor.restarts == 1 and supervisor.healthy, 10, "the restart")
        assert _accepts(broker.port)
        assert _pid(broker) != first
        assert supervisor.health() == {"state": "running", "restarts": 1, "last_exit": -signal.SIGKILL}
    finally:
        supervisor.stop()
    assert not broker.running()


def test_a_broker_that_keeps_dying_is_restarted_with_growing_pauses(tmp_path: Path) -> None:
    broker = ManagedBroker(tmp_path / "broker", port=free_port())
    broker.reload(ACCOUNTS)
    supervisor = Supervisor(broker, backoff_s=(0.0, 60.0))
    supervisor.start()
    try:
        os.kill(_pid(broker), signal.SIGKILL)
        _wait(lambda: supervisor.restarts == 1, 10, "the first restart")
        second = _pid(broker)
        os.kill(second, signal.SIGKILL)
        _wait(lambda: not _alive(second), 10, "the second death")
        _wait(lambda: supervisor.health()["state"] == "restarting", 10, "the health flag")
        assert supervisor.restarts == 1  # waits 60 s before the next try
    finally:
        supervisor.stop()


PARENT = """
import sys, threading
from pathlib import Path
from controller.children import Supervisor
from controller.mqtt.accounts import BrokerAccount, hash_password
from controller.mqtt.broker import ManagedBroker
broker = ManagedBroker(Path(sys.argv[1]), port=int(sys.argv[2]))
broker.reload([BrokerAccount("loaxa-controller", hash_password("secret"), "controller")])
Supervisor(broker).start()
print("ready", flush=True)
threading.Event().wait()
"""


def test_kill_9_of_the_controller_takes_its_broker_along_and_frees_the_port(tmp_path: Path) -> None:
    """Issue 20 item 8: no mosquitto with parent 1 left on the MQTT port after `kill -9`."""
    port = free_port()
    workdir = tmp_path / "broker"
    with subprocess.Popen(
        [sys.executable, "-c", PARENT, str(workdir), str(port)], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
            child = _pid(ManagedBroker(workdir, port=port))
        finally:
            parent.kill()
    _wait(lambda: not _alive(child), 10, "mosquitto to exit after its controller")
    again = ManagedBroker(workdir, port=port)
    again.start(ACCOUNTS)  # the same port: it is free again
    again.stop()
