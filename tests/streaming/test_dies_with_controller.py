"""The managed Icecast and its listener gate die with the process that runs them, also after `kill -9`
(no port left held).

Run as root it is started as the icecast2 user; the parent-death signal must survive that change.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.services import free_port

SCRIPT = """
import sys, threading
from controller.config import load_settings
from controller.streaming import StreamingServer
server = StreamingServer(load_settings({}, data_dir=sys.argv[1], http__port=int(sys.argv[2])), b"k" * 32)
server.start(())
print(server.icecast.pid, int(server.gate.pid_path.read_text()), flush=True)
threading.Event().wait()
"""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def test_a_killed_controller_takes_its_icecast_and_gate_with_it(tmp_path: Path) -> None:
    controller = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data"), str(free_port())],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert controller.stdout is not None
        icecast, gate = map(int, controller.stdout.readline().split())
        assert _alive(icecast) and _alive(gate)
        if os.geteuid() == 0:
            assert Path(f"/proc/{icecast}").stat().st_uid != 0  # runs as icecast2, not root
        os.kill(controller.pid, signal.SIGKILL)
        controller.wait()
        deadline = time.monotonic() + 10
        while _alive(icecast) or _alive(gate):
            assert time.monotonic() < deadline, f"icecast {icecast} or gate {gate} outlived its controller"
            time.sleep(0.1)
    finally:
        if controller.poll() is None:
            controller.kill()
            controller.wait()
        if controller.stdout is not None:
            controller.stdout.close()
