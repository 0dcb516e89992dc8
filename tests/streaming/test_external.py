"""Live mounts on a province's own Icecast (LOAXA_STREAM_MODE=external): a second real Icecast2, configured
by hand as docs/streaming.md asks a province to, with the real web app answering its listener checks.

The controller hands out ingest URLs with the configured source login, sees a sender through the public
status-json.xsl (with a signed token, since the province's default mount sends every request to our
check) or through /admin/listmounts when given the admin login, kicks the sender with the source login,
and signs listener URLs the province's Icecast lets in while it refuses unsigned ones. A wrong source
password refuses a live session in Vietnamese, and `loaxa check-config` says what that Icecast refused.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.config import Settings, load_settings
from controller.live import LiveDesk, LiveHooks, LiveUnavailable
from controller.streaming import StreamingServer, sign_listener_url
from tests.streaming.conftest import SECRET, Web, listen, send
from tests.support.province_icecast import ADMIN_PASSWORD, SOURCE_PASSWORD, province_icecast

MOUNT = "/live-0123456789abcdef"


def external(web: Web, url: str, **extra: str) -> Settings:
    env = {"LOAXA_STREAM_MODE": "external", "LOAXA_STREAM_URL": url, **extra}
    env.setdefault("LOAXA_STREAM_SOURCE_PASSWORD", SOURCE_PASSWORD)
    return load_settings(env, data_dir=web.tmp / "data", http__port=web.settings.http.port)


def until(what: str, probe: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.parametrize("admin", [False, True], ids=["status-json", "admin-listmounts"])
def test_a_live_mount_on_the_province_icecast(web: Web, admin: bool) -> None:
    with province_icecast(web.auth_url) as province:
        logins = {"LOAXA_STREAM_ADMIN_USER": "admin", "LOAXA_STREAM_ADMIN_PASSWORD": ADMIN_PASSWORD}
        server = StreamingServer(external(web, province.url, **(logins if admin else {})), SECRET)
        server.start(())  # nothing to start
        assert (server.admin is not None) and (server.admin.admin is not None) == admin
        [ingest] = server.set_source_mounts([MOUNT]).values()
        assert ingest == f"icecast://source:{SOURCE_PASSWORD}@127.0.0.1:{province.port}{MOUNT}"
        assert not server.mount_has_source(MOUNT, now())
        sender = send(ingest)
        try:
            until("the mount has a source", lambda: server.mount_has_source(MOUNT, now()))
            signed = sign_listener_url(province.url, MOUNT, SECRET, now() + timedelta(hours=1), "tule-c01")
            status, audio = listen(signed)
            assert status == 200 and len(audio) == 8192
            assert listen(f"{province.url}{MOUNT}")[0] == 401  # the province's Icecast asked us: refused
            server.kill_source(MOUNT)
            until("the source is kicked", lambda: not server.mount_has_source(MOUNT, now()))
            assert sender.wait(10) != 0  # ffmpeg lost its connection
        finally:
            sender.kill()
            sender.wait()


def test_a_wrong_source_password_refuses_the_session_in_vietnamese(web: Web) -> None:
    with province_icecast(web.auth_url) as province:
        settings = external(web, province.url, LOAXA_STREAM_SOURCE_PASSWORD="sai-mat-khau")
        hooks = LiveHooks(on_air=lambda *_: None, on_ended=lambda *_: None)
        desk = LiveDesk(
            StreamingServer(settings, SECRET), lambda sent: [True] * len(sent), SECRET, now, hooks
        )
        with pytest.raises(LiveUnavailable, match="Icecast của tỉnh không nhận nguồn của loaxa"):
            desk.open("0123456789abcdef", ("tule-c01",))
        assert not desk.is_open("0123456789abcdef")


def check_config(web: Web, url: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOAXA_DATA_DIR": str(web.tmp / "cli"), "LOAXA_STREAM_MODE": "external",
           "LOAXA_STREAM_URL": url, "LOAXA_STREAM_SOURCE_PASSWORD": SOURCE_PASSWORD, **extra}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "loaxa.cli", "check-config"], env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_check_config_says_what_the_province_icecast_refuses(web: Web) -> None:
    with province_icecast(web.auth_url) as province:
        good = check_config(web, province.url)
        assert good.returncode == 0, good.stderr
        assert f"✓ Icecast của tỉnh {province.url}: nhận tài khoản nguồn «source»" in good.stdout
        wrong = check_config(web, province.url, LOAXA_STREAM_SOURCE_PASSWORD="sai")
        assert wrong.returncode == 1
        assert "✗ Icecast của tỉnh" in wrong.stderr and "từ chối tài khoản nguồn «source»" in wrong.stderr
        admin = check_config(
            web, province.url, LOAXA_STREAM_ADMIN_USER="admin", LOAXA_STREAM_ADMIN_PASSWORD="sai"
        )
        assert admin.returncode == 1 and "từ chối tài khoản quản trị" in admin.stderr
    with province_icecast(None) as open_server:  # listeners not checked by us: said, not fatal
        unchecked = check_config(web, open_server.url)
        assert unchecked.returncode == 0
        assert "cho nghe mà không hỏi mã nghe" in unchecked.stderr
    half = check_config(web, "http://127.0.0.1:9", LOAXA_STREAM_ADMIN_USER="admin")
    assert half.returncode != 0
    assert "loaxa: cấu hình chưa đúng" in half.stderr and "phải đặt cả hai hoặc bỏ cả hai" in half.stderr
    bad_user = check_config(web, "http://127.0.0.1:9", LOAXA_STREAM_SOURCE_USER="nguồn")
    assert bad_user.returncode != 0 and "LOAXA_STREAM_SOURCE_USER 'nguồn' không dùng được" in bad_user.stderr
    gone = check_config(web, "http://127.0.0.1:9")
    assert gone.returncode == 0 and "không kết nối được" in gone.stderr


def test_settings_pass_the_source_user_into_the_ingest_url(tmp_path: Path) -> None:
    settings = load_settings(
        {"LOAXA_STREAM_MODE": "external", "LOAXA_STREAM_URL": "http://radio.example:8000",
         "LOAXA_STREAM_SOURCE_USER": "loaxa", "LOAXA_STREAM_SOURCE_PASSWORD": "a/b c"},
        data_dir=tmp_path,
    )  # fmt: skip
    server = StreamingServer(settings, SECRET)
    assert server.source_url(MOUNT) == f"icecast://loaxa:a%2Fb%20c@radio.example:8000{MOUNT}"
    assert server.set_source_mounts([MOUNT]) == {MOUNT: server.source_url(MOUNT)}
