"""The listener gate: Icecast's listener checks answered by a process of its own, without the web server.

Real processes: the managed Icecast, the gate (`python -m controller.streaming.gate`), ffmpeg. No web app
runs here, so every admission below was decided by the gate.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.config import load_settings
from controller.streaming import LISTENER_AUTH_PATH, StreamingServer, sign_listener_url
from controller.streaming.gate import MODULE
from tests.streaming.conftest import SECRET, Stack, feed, listen, wait_mounted
from tests.support.services import free_port


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Stack]:
    """A managed Icecast and its gate, and no web server at all (its port is free and stays closed)."""
    settings = load_settings({}, data_dir=tmp_path / "data", http__port=free_port())
    server = StreamingServer(settings, SECRET)
    server.start(())
    try:
        yield Stack(server, settings, tmp_path)
    finally:
        server.stop()


def _post(url: str, form: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers)


def test_icecast_admits_signed_listeners_through_the_gate_alone_and_counts_refusals(bare: Stack) -> None:
    gate = bare.server.gate
    assert gate is not None
    assert f"{LISTENER_AUTH_PATH}" in bare.server.icecast.conf_path.read_text()  # type: ignore[union-attr]
    assert f":{gate.port}{LISTENER_AUTH_PATH}" in bare.server.icecast.conf_path.read_text()  # type: ignore[union-attr]
    source = feed(bare, "/live-9")
    try:
        wait_mounted(bare, "/live-9")
        good = sign_listener_url(
            bare.base, "/live-9", SECRET, datetime.now(UTC) + timedelta(minutes=5), "tule-c01"
        )
        status, data = listen(good)
        assert status == 200 and len(data) == 8192
        expired = sign_listener_url(bare.base, "/live-9", SECRET, datetime.now(UTC) - timedelta(seconds=1))
        for bad in (f"{bare.base}/live-9", expired, good.replace("tule-c01", "tule-c02")):
            assert listen(bad)[0] in (401, 403), bad
    finally:
        source.terminate()
        source.wait()
    counts = gate.counts()
    assert counts is not None and counts["admitted"] == 1
    assert counts["refused"] == {"unsigned": 1, "expired": 1, "bad_signature": 1}
    assert bare.server.health()["listener_gate"] == {
        "state": "running", "restarts": 0, "last_exit": None, "listeners": counts,
    }  # fmt: skip
    log = gate.log_path.read_text()
    assert "listener admitted to /live-9 (device tule-c01)" in log and "listener refused (expired)" in log


def test_the_gate_takes_only_icecasts_form_on_its_path(bare: Stack) -> None:
    gate = bare.server.gate
    assert gate is not None
    good = sign_listener_url("http://x", "/test", SECRET, datetime.now(UTC) + timedelta(minutes=1))
    mount = good.removeprefix("http://x")
    status, headers = _post(gate.auth_url, {"action": "listener_add", "mount": mount})
    assert status == 200 and headers["icecast-auth-user"] == "1"
    status, headers = _post(gate.auth_url, {"action": "mount_add", "mount": mount})
    assert (
        status == 403
        and headers["icecast-auth-message"] == "bad_action"
        and "icecast-auth-user" not in headers
    )
    assert _post(gate.auth_url.replace(LISTENER_AUTH_PATH, "/other"), {"action": "listener_add"})[0] == 404
    assert _post(gate.auth_url, {"action": "listener_add", "mount": "x" * 20_000})[0] == 413
    assert gate.counts() == {"admitted": 1, "refused": {"bad_action": 1}}


def test_the_secret_never_appears_on_the_command_line(bare: Stack) -> None:
    gate, supervisor = bare.server.gate, bare.server.gate_supervisor
    assert gate is not None and supervisor is not None
    pid = int(gate.pid_path.read_text())
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    assert MODULE.encode() in cmdline and SECRET.hex().encode() not in cmdline and SECRET not in cmdline


def test_a_killed_gate_is_started_again_on_the_same_port_and_admits_again(bare: Stack) -> None:
    gate, supervisor = bare.server.gate, bare.server.gate_supervisor
    assert gate is not None and supervisor is not None
    first = int(gate.pid_path.read_text())
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while supervisor.restarts < 1 or not supervisor.healthy:
        assert time.monotonic() < deadline, "the listener gate was not started again"
        time.sleep(0.1)
    assert int(gate.pid_path.read_text()) != first
    assert (
        supervisor.last_exit == -signal.SIGKILL
        and bare.server.health()["listener_gate"]["last_exit"] == -signal.SIGKILL
    )
    source = feed(bare, "/again")
    try:
        wait_mounted(bare, "/again")
        url = sign_listener_url(bare.base, "/again", SECRET, datetime.now(UTC) + timedelta(minutes=5))
        assert listen(url)[0] == 200  # Icecast's file still names the same port
    finally:
        source.terminate()
        source.wait()


def test_the_gate_refuses_to_start_without_a_secret() -> None:
    done = subprocess.run(
        [sys.executable, "-m", MODULE, "--host", "127.0.0.1", "--port", str(free_port())],
        input=b"\n", capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and b"secret" in done.stderr
