"""The managed Icecast on a free loopback port, asking the real web app (on another free port) about
listeners; ffmpeg feeds it. Real processes only: icecast2, ffmpeg, waitress, SQLite."""

import base64
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.assets import AssetStore
from controller.config import Settings, load_settings
from controller.db import Database, upgrade
from controller.streaming import LISTENER_AUTH_PATH, StationUrls, StreamingServer
from tests.support.services import free_port
from web import WebContext, create_app
from web.server import WebServer

SECRET = b"k" * 32


@dataclass
class Stack:
    """The streaming server and what a test needs to reach it."""

    server: StreamingServer
    settings: Settings
    tmp: Path

    @property
    def base(self) -> str:
        assert self.server.icecast is not None
        return self.server.icecast.url


def _no_hook(*_args: object) -> None:
    raise AssertionError("not used by streaming tests")


@dataclass
class Web:
    """The real web app on a free loopback port: Icecast asks its listener-auth endpoint."""

    settings: Settings
    tmp: Path

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http.port}{LISTENER_AUTH_PATH}"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    """The web app (listener checks) over a migrated SQLite database."""
    settings = load_settings({}, data_dir=tmp_path / "data", http__port=free_port())
    url = f"sqlite:///{tmp_path / 'loaxa.db'}"
    upgrade(url)
    db = Database(url)
    context = WebContext(
        db=db,
        settings=settings,
        clock=lambda: datetime.now(UTC),
        assets=AssetStore(tmp_path / "assets"),
        asset_url_secret=SECRET,
        on_bulletin_changed=_no_hook,
        render_preview=_no_hook,  # type: ignore[arg-type]
        send_command=_no_hook,
        health=dict,
    )
    server = WebServer(create_app(context), host="127.0.0.1", port=settings.http.port)
    server.start()
    try:
        yield Web(settings, tmp_path)
    finally:
        server.stop()
        db.dispose()


@pytest.fixture
def stack(web: Web) -> Iterator[Stack]:
    """The web app (listener checks) and a managed Icecast started with no stations."""
    server = StreamingServer(web.settings, SECRET)
    server.start(())
    try:
        yield Stack(server, web.settings, web.tmp)
    finally:
        server.stop()


def send(ingest_url: str, seconds: float = 60) -> subprocess.Popen[bytes]:
    """ffmpeg sending a 440 Hz sine tone as MP3 to an `icecast://` source URL in real time."""
    return subprocess.Popen(
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi",
            "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "libmp3lame", "-b:a", "64k",
            "-content_type", "audio/mpeg", "-f", "mp3", ingest_url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def feed(stack: Stack, mount: str, seconds: float = 60) -> subprocess.Popen[bytes]:
    """ffmpeg sending a sine tone as MP3 to `mount` of the managed Icecast, with the source password."""
    assert stack.server.icecast is not None
    return send(stack.server.icecast.source_url(mount), seconds)


def listen(url: str, want: int = 8192, timeout: float = 10) -> tuple[int, bytes]:
    """GET a stream URL: its status and up to `want` bytes (the status alone when refused)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = b""
            while len(data) < want:
                chunk = response.read(want - len(data))
                if not chunk:
                    break
                data += chunk
            return response.status, data
    except urllib.error.HTTPError as exc:
        exc.close()  # its response would otherwise be closed by the garbage collector, with a warning
        return exc.code, b""


def mounts(stack: Stack) -> str:
    """Icecast's list of mounts with a source (its admin page, with the admin password)."""
    assert stack.server.icecast is not None
    password = stack.server.icecast.credentials.admin_password
    request = urllib.request.Request(f"{stack.base}/admin/listmounts")
    request.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{password}".encode()).decode())
    with urllib.request.urlopen(request, timeout=2) as response:
        return response.read().decode(errors="replace")


def wait_mounted(stack: Stack, mount: str, timeout: float = 15) -> None:
    """Wait until Icecast lists `mount` as having a source."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if f'mount="{mount}"' in mounts(stack):
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"mount {mount} did not come up within {timeout} s")


__all__ = ["SECRET", "Stack", "StationUrls", "Web", "feed", "listen", "send", "wait_mounted"]
