"""The managed Icecast: sources authenticate, listeners need a signed, unexpired token, it comes back."""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from controller.streaming import StationUrls, sign_listener_url
from controller.streaming.credentials import load_or_create_credentials
from tests.streaming.conftest import SECRET, Stack, feed, listen, mounts, wait_mounted


def test_listener_with_token_hears_audio_and_without_is_refused(stack: Stack) -> None:
    source = feed(stack, "/test")
    try:
        wait_mounted(stack, "/test")
        good = sign_listener_url(
            stack.base, "/test", SECRET, datetime.now(UTC) + timedelta(minutes=5), "tule-c01"
        )
        status, data = listen(good)
        assert status == 200
        assert len(data) == 8192 and (b"ID3" in data[:10] or data[0] == 0xFF)  # MP3 frames
        expired = sign_listener_url(stack.base, "/test", SECRET, datetime.now(UTC) - timedelta(seconds=1))
        forged = good.replace("device=tule-c01", "device=tule-c02")
        other_mount = sign_listener_url(
            stack.base, "/other", SECRET, datetime.now(UTC) + timedelta(minutes=5)
        )
        for bad in (f"{stack.base}/test", expired, forged, other_mount.replace("/other", "/test")):
            assert listen(bad)[0] in (401, 403), bad
    finally:
        source.terminate()
        source.wait()


def test_a_killed_icecast_is_started_again_and_reported(stack: Stack) -> None:
    icecast, supervisor = stack.server.icecast, stack.server.supervisor
    assert icecast is not None and supervisor is not None
    health = stack.server.health()
    assert {k: health[k] for k in ("mode", "state", "restarts", "last_exit")} == {
        "mode": "managed", "state": "running", "restarts": 0, "last_exit": None,
    }  # fmt: skip
    first = icecast.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while supervisor.restarts < 1 or not supervisor.healthy:
        assert time.monotonic() < deadline, "icecast was not started again"
        time.sleep(0.1)
    assert icecast.pid not in (None, first)
    assert stack.server.health()["last_exit"] == -signal.SIGKILL
    source = feed(stack, "/again")  # the new process takes sources with the same password
    try:
        wait_mounted(stack, "/again")
    finally:
        source.terminate()
        source.wait()


def test_source_with_a_wrong_password_is_refused(stack: Stack) -> None:
    assert stack.server.icecast is not None
    assert _send(stack.server.icecast.source_url("/test", "not-the-password")) != 0
    assert 'mount="/test"' not in mounts(stack)


def test_passwords_are_random_private_and_kept(stack: Stack) -> None:
    assert stack.server.icecast is not None
    path = stack.server.icecast.directory / "credentials.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert stack.server.icecast.conf_path.stat().st_mode & 0o777 == 0o600
    again = load_or_create_credentials(stack.server.icecast.directory)
    assert again == stack.server.icecast.credentials
    assert len({again.source_password, again.admin_password, again.mount_secret}) == 3
    text = stack.server.icecast.conf_path.read_text()
    assert "<chroot>0</chroot>" in text and "hackme" not in text
    assert 'name="listener_add"' in text and "icecast-auth-user: 1" in text


def test_the_listener_check_takes_only_icecasts_form(stack: Stack) -> None:
    auth = f"http://127.0.0.1:{stack.settings.http.port}/api/v1/streaming/listener-auth"
    wrong_action = urllib.request.Request(auth, data=b"action=mount_add&mount=%2Ftest", method="POST")
    wrong_action.add_header("Content-Type", "application/x-www-form-urlencoded")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(wrong_action, timeout=5)
    with refused.value as answer:
        assert answer.code == 422 and json.load(answer)["error"]["code"] == "bad_action"
    good = sign_listener_url("http://x", "/test", SECRET, datetime.now(UTC) + timedelta(minutes=1))
    body = urllib.parse.urlencode({"action": "listener_add", "mount": good.removeprefix("http://x")}).encode()
    admitted = urllib.request.Request(auth, data=body, method="POST")
    admitted.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(admitted, timeout=5) as answer:
        assert answer.headers["icecast-auth-user"] == "1"


def test_a_station_gets_a_relay_mount_that_agents_hear_with_a_token(stack: Stack) -> None:
    supervisor = stack.server.supervisor
    assert supervisor is not None
    # The "station" is another mount of this Icecast, reached with a listener token like any agent's.
    upstream = sign_listener_url(stack.base, "/upstream", SECRET, datetime.now(UTC) + timedelta(hours=1))
    stack.server.set_stations([StationUrls(7, ("https://only-tls.example/vov1", upstream))])
    assert "<local-mount>/relay-7</local-mount>" in stack.server.icecast.conf_path.read_text()  # type: ignore[union-attr]
    wait_mounted(stack, "/relay-7")  # re-read on SIGHUP: the on-demand relay mount is set up, unstarted
    assert supervisor.restarts == 0
    source = feed(stack, "/upstream")
    try:
        wait_mounted(stack, "/upstream")
        relay = stack.server.relay_url(7, datetime.now(UTC) + timedelta(minutes=5), device="tule-c01")
        assert relay is not None and relay.startswith(f"{stack.base}/relay-7?expires=")
        status, data = listen(relay)  # on demand: the relay starts pulling for this listener
        assert status == 200 and len(data) == 8192
        assert listen(relay.split("?")[0])[0] in (401, 403)
        assert stack.server.relay_url(8, datetime.now(UTC) + timedelta(minutes=5)) is None  # no such station
    finally:
        source.terminate()
        source.wait()


def test_a_declared_source_mount_takes_only_its_own_password(stack: Stack) -> None:
    supervisor, icecast = stack.server.supervisor, stack.server.icecast
    assert supervisor is not None and icecast is not None
    (own,) = stack.server.set_source_mounts(["/live-1"]).values()
    deadline = time.monotonic() + 20
    while _send(own) != 0:  # Icecast re-reads its file on SIGHUP, a moment after it is sent
        assert time.monotonic() < deadline, "the mount's own password was never accepted"
        time.sleep(0.2)
    assert _send(icecast.source_url("/live-1")) != 0  # the general password does not open it
    assert supervisor.restarts == 0


def _send(url: str) -> int:
    """ffmpeg's exit status after sending one second of tone to `url`."""
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=1",
         "-f", "mp3", "-content_type", "audio/mpeg", url],
        capture_output=True, timeout=30, check=False,
    ).returncode  # fmt: skip
