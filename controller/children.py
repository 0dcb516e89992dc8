"""Child processes of the controller: they die with it, and a supervisor starts them again when they die.

Owns two things: the `die_with_parent` pre-exec hook (Linux PR_SET_PDEATHSIG, so a `kill -9` of the
controller does not leave a managed mosquitto holding its port) and `Supervisor`, a thread that watches a
child and restarts it at once, then with growing pauses while it keeps dying, and reports its health.
It knows nothing of what the children are (the managed broker, the demo's agent processes).

PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not only the process: a supervised
child is therefore always started from the supervisor's own thread, which lives until `stop()`.
"""

import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_prctl = _libc.prctl  # looked up before any fork: the hook below only calls it


def die_with_parent() -> None:
    """Pre-exec hook: the kernel sends the child SIGTERM when the thread that started it ends."""
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def stop_leftover(pid_file: Path, marker: str, timeout: float = 10.0) -> None:
    """Stop the process a pid file names if it is still alive and its command line holds `marker`.

    For a child whose parent died without passing SIGTERM on (an older version, a thread that ended):
    its successor stops it before taking the same port. A recycled pid of another program is left alone.
    """
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return
    if marker.encode() not in cmdline or pid == os.getpid():
        return
    log.warning("stopping process %s left over from an earlier run (%s)", pid, pid_file)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def wait_listening(
    process: "subprocess.Popen[bytes]", name: str, address: tuple[str, int], deadline: float, log_path: Path
) -> bool:
    """Wait until a child accepts TCP connections on `address`: True, or False at `deadline` (monotonic).

    Raises RuntimeError with the tail of its log when the child exits first.
    """
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} exited with code {process.returncode}:\n{tail}")
        try:
            with socket.create_connection(address, timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def end_process(process: "subprocess.Popen[bytes]", timeout: float = 5.0) -> None:
    """Ask a child to stop (SIGTERM), wait up to `timeout` s, then kill it; returns once it has exited."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Child(Protocol):
    """What a supervisor needs of a child: start it (raising when it cannot), and see it run."""

    name: str

    def launch(self) -> None:
        """Start the child and return once it serves; raise when it does not."""

    def running(self) -> bool:
        """True while the child process is alive."""

    def exit_code(self) -> int | None:
        """The exit status of the last process, once it has ended."""

    def stop(self) -> None:
        """Stop the child."""


# The first restart is at once (DESIGN §5: "at once"); a child that keeps dying waits longer each time.
BACKOFF_S = (0.0, 1.0, 2.0, 5.0, 10.0, 30.0)
# A child that ran this long since its last start counts as healthy again: the next death restarts at once.
STABLE_S = 60.0


class Supervisor:
    """Starts a child, watches it from its own thread, and restarts it when it dies."""

    def __init__(
        self,
        child: Child,
        *,
        backoff_s: tuple[float, ...] = BACKOFF_S,
        stable_s: float = STABLE_S,
        poll_s: float = 0.1,
        on_restarted: Callable[[], None] | None = None,
    ) -> None:
        self.child = child
        self._backoff_s = backoff_s
        self._stable_s = stable_s
        self._poll_s = poll_s
        self._on_restarted = on_restarted
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.restarts = 0
        self.healthy = False
        self.last_exit: int | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the child from the supervisor's thread; raise what its first start raised."""
        self._thread = threading.Thread(target=self._run, name=f"supervise-{self.child.name}", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"{self.child.name} did not start within {timeout} s")
        if self._start_error is not None:
            raise self._start_error

    def health(self) -> dict[str, object]:
        """For the health endpoint: running or restarting, restarts so far, the last exit status."""
        return {
            "state": "running" if self.healthy else "restarting",
            "restarts": self.restarts,
            "last_exit": self.last_exit,
        }

    def stop(self) -> None:
        """Stop watching, then stop the child (from the thread that started it)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.healthy = False

    def _run(self) -> None:
        try:
            self.child.launch()
        except BaseException as exc:  # handed to start(), which raises it in the caller's thread
            self._start_error = exc
            self._started.set()
            return
        self.healthy = True
        self._started.set()
        failures = 0
        started_at = time.monotonic()
        while not self._stopping.wait(self._poll_s):
            if self.child.running():
                continue
            self.healthy = False
            self.last_exit = self.child.exit_code()
            if time.monotonic() - started_at >= self._stable_s:
                failures = 0
            pause = self._backoff_s[min(failures, len(self._backoff_s) - 1)]
            log.error(
                "%s exited with status %s; starting it again in %.0f s (restart %d)",
                self.child.name, self.last_exit, pause, self.restarts + 1,
            )  # fmt: skip
            if self._stopping.wait(pause):
                break
            failures += 1
            started_at = time.monotonic()
            try:
                self.child.launch()
            except Exception as exc:  # logged; the loop sees it is not running and tries again
                log.error("%s did not start again: %s", self.child.name, exc)
                continue
            self.restarts += 1
            self.healthy = True
            log.warning("%s is running again (restart %d)", self.child.name, self.restarts)
            if self._on_restarted is not None:
                self._on_restarted()
        self.child.stop()
