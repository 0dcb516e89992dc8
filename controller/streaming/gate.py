"""The listener gate: a process of its own that answers the managed Icecast's listener checks (DESIGN §13).

Icecast 2.4 checks the listeners of every mount one after another, from a single thread (URL
authentication, `listener_add`), so it admits listeners at one over the check's answer time: measured
with a check answering in 50 ms, 100 listeners waited up to 5.7 s. The controller's web server shares its
process (and the GIL) with the ingest of the fleet's events, which peaks exactly when a live session or a
relay slot starts on every agent at once (a province's slot: up to ~3,000 listeners). Here the same check
(controller.streaming.listeners.check_listener) is answered by a process that does nothing else: 0.4 ms
against the web endpoint's 1.0 ms on an idle controller (docs/streaming.md, "The listener gate").
`POST /api/v1/streaming/listener-auth` on the web server answers the same way and stays for a province's
own Icecast (docs/streaming.md).

Owns the child (`ListenerGate`, a controller.children `Child` the streaming server supervises) and its
server (`main`, run as `python -m controller.streaming.gate`): the URL secret arrives on stdin, never on
the command line; the log goes to data_dir/icecast/listener-gate.log; `GET /counts` tells the controller's
health how many listeners were admitted and refused, by reason. Must not read the database.
"""

import argparse
import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs

import controller
from controller.children import die_with_parent, end_process, stop_leftover, wait_listening
from controller.streaming.icecast_config import LISTENER_AUTH_PATH, STATUS_PAGE
from controller.streaming.listeners import Listener, ListenerRefused, check_listener

log = logging.getLogger(__name__)

MODULE: Final = "controller.streaming.gate"
COUNTS_PATH: Final = "/counts"
MAX_FORM_BYTES: Final = 16 * 1024  # Icecast's form is a few hundred bytes (mount, query, ip, agent)


def log_refused(reason: str, requested: str, ip: str) -> None:
    """The log line of a listener kept out."""
    mount = requested.partition("?")[0][:80]  # the query holds the token: not logged
    log.warning("listener refused (%s) for %s from %s", reason, mount, ip[:64] or "?")


def checked_listener(requested: str, ip: str, secret: bytes, now: datetime) -> Listener:
    """`check_listener` with its decision logged; raises ListenerRefused.

    Every listener check logs the same way: this gate, and the web endpoint a province's Icecast asks.
    """
    try:
        listener = check_listener(requested, secret, now)
    except ListenerRefused as exc:
        log_refused(exc.reason, requested, ip)
        raise
    # The live desk reads the status page several times a second: not worth a line each time.
    level = logging.DEBUG if listener.mount == STATUS_PAGE else logging.INFO
    log.log(level, "listener admitted to %s (device %s)", listener.mount, listener.device or "-")
    return listener


class Gate:
    """The decisions and their tallies: thread-safe, time passed in through `clock`."""

    def __init__(self, secret: bytes, clock: Callable[[], datetime]) -> None:
        self._secret = secret
        self._clock = clock
        self._lock = threading.Lock()
        self._admitted = 0
        self._refused: Counter[str] = Counter()

    def decide(self, form: dict[str, list[str]]) -> str | None:
        """None when Icecast may let the listener in, else the refusal's reason code (logged, counted)."""
        action, requested, ip = (form.get(key, [""])[-1] for key in ("action", "mount", "ip"))
        reason = None
        if action != "listener_add":
            reason = "bad_action"
            log_refused(reason, requested, ip)
        else:
            try:
                checked_listener(requested, ip, self._secret, self._clock())
            except ListenerRefused as exc:
                reason = exc.reason
        with self._lock:
            if reason is None:
                self._admitted += 1
            else:
                self._refused[reason] += 1
        return reason

    def counts(self) -> dict[str, object]:
        """Listeners admitted, and refused by reason, since the gate started."""
        with self._lock:
            return {"admitted": self._admitted, "refused": dict(self._refused)}


def handler_for(gate: Gate) -> type[BaseHTTPRequestHandler]:
    """The request handler: Icecast's form on POST LISTENER_AUTH_PATH, the tallies on GET /counts."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # Icecast's libcurl handle keeps the connection for the next check
        server_version = "loaxa-listener-gate"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if self.path.split("?")[0] != LISTENER_AUTH_PATH or not 0 <= length <= MAX_FORM_BYTES:
                self._answer(404 if length <= MAX_FORM_BYTES else 413, {}, close=True)
                return
            form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"), max_num_fields=16)
            reason = gate.decide(form)
            if reason is None:
                self._answer(200, {"icecast-auth-user": "1"})
            else:
                self._answer(403, {"icecast-auth-message": reason})

        def do_GET(self) -> None:
            if self.path != COUNTS_PATH:
                self._answer(404, {})
                return
            body = json.dumps(gate.counts()).encode()
            self._answer(200, {"Content-Type": "application/json"}, body)

        def _answer(
            self, status: int, headers: dict[str, str], body: bytes = b"", *, close: bool = False
        ) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Decisions are logged by the gate; the per-request access line would only repeat them."""

    return Handler


def serve(host: str, port: int, gate: Gate) -> ThreadingHTTPServer:
    """A bound server for `gate` (not yet serving): the caller runs `serve_forever`."""
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((host, port), handler_for(gate))
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    """Run the gate: `python -m controller.streaming.gate --host H --port P`, the secret (hex) on stdin."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        secret = bytes.fromhex(sys.stdin.readline().strip())
    except ValueError:
        secret = b""
    if not secret:
        print("loaxa listener gate: the URL secret (hex) must come on stdin", file=sys.stderr)
        return 2
    server = serve(args.host, args.port, Gate(secret, lambda: datetime.now(UTC)))
    log.info("listener gate on http://%s:%s%s", args.host, args.port, LISTENER_AUTH_PATH)
    server.serve_forever(poll_interval=0.5)
    return 0


class ListenerGate:
    """The gate as a supervised child of the controller (see controller.children.Supervisor)."""

    name = "listener-gate"

    def __init__(self, directory: Path, host: str, port: int, secret: bytes) -> None:
        self.host, self.port = host, port
        self._secret = secret
        self.log_path = directory / "listener-gate.log"
        self.pid_path = directory / "listener-gate.pid"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def auth_url(self) -> str:
        """What Icecast's `listener_add` option points at."""
        return f"http://{self.host}:{self.port}{LISTENER_AUTH_PATH}"

    def launch(self, timeout: float = 10.0) -> None:
        """Start the gate and return once it accepts connections."""
        stop_leftover(self.pid_path, MODULE)
        code_root = str(Path(controller.__file__).resolve().parents[1])  # a dev checkout or the .deb's lib
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (code_root, os.environ.get("PYTHONPATH")))),
        }
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", MODULE, "--host", self.host, "--port", str(self.port)],
                stdin=subprocess.PIPE,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - only calls prctl, looked up before any fork
            )
        assert self._process.stdin is not None  # noqa: S101 - Popen with stdin=PIPE
        self._process.stdin.write(self._secret.hex().encode() + b"\n")
        self._process.stdin.close()
        self.pid_path.write_text(f"{self._process.pid}\n")
        address, deadline = (self.host, self.port), time.monotonic() + timeout
        if wait_listening(self._process, "listener gate", address, deadline, self.log_path):
            log.info("listener gate on %s (pid %s)", self.auth_url, self._process.pid)
            return
        self.stop()
        raise RuntimeError(f"listener gate did not listen on {self.host}:{self.port} within {timeout} s")

    def counts(self) -> dict[str, object] | None:
        """The gate's tallies (admitted, refused by reason), or None when it does not answer."""
        url = f"http://{self.host}:{self.port}{COUNTS_PATH}"
        try:
            with urllib.request.urlopen(url, timeout=0.5) as response:
                counts: dict[str, object] = json.load(response)
                return counts
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        """The exit status of the last gate process, once it has ended."""
        return None if self._process is None else self._process.poll()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the gate."""
        if self._process is None:
            return
        end_process(self._process, timeout)
        self._process = None


if __name__ == "__main__":
    sys.exit(main())
