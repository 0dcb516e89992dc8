"""The controller under systemd: READY=1 once it serves, WATCHDOG=1 while its web answers, STOPPING=1."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.services import free_port


def test_the_controller_notifies_ready_watchdog_and_stopping(tmp_path: Path) -> None:
    sockdir = Path(tempfile.mkdtemp(prefix="loaxa-notify-"))  # short: AF_UNIX paths are limited to 108
    env = {name: value for name, value in os.environ.items() if not name.startswith("LOAXA_")}
    env |= {
        "NOTIFY_SOCKET": str(sockdir / "notify"),
        "WATCHDOG_USEC": "600000",  # keep-alive every 0.2 s
        "LOAXA_DATA_DIR": str(tmp_path / "data"),
        "LOAXA_PORT": str(free_port()),
        "LOAXA_MQTT_URL": f"mqtt://127.0.0.1:{free_port()}",
        "LOAXA_TTS_ENGINES": "espeak-ng",
    }
    received: list[str] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sockdir / "notify"))
        sock.settimeout(60)  # start-up creates the database, keys and the broker on a loaded machine
        with subprocess.Popen(
            [sys.executable, "-m", "loaxa.cli", "controller"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as process:
            try:
                while "WATCHDOG=1" not in received:
                    received.append(sock.recv(256).decode())
                process.send_signal(signal.SIGTERM)
                while "STOPPING=1" not in received:
                    received.append(sock.recv(256).decode())
                assert process.wait(30) == 0
            finally:
                if process.poll() is None:
                    process.kill()
                shutil.rmtree(sockdir, ignore_errors=True)
    assert received[0] == "READY=1"
