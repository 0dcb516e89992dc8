"""`loaxa check-config`'s lines about a province's Icecast (LOAXA_STREAM_MODE=external).

Asks that server what live sessions will need of it: does it take our source login (a PUT on a throwaway
mount, cut at Icecast's answer, as a sender starts), does the admin login open /admin/listmounts when one
is set, and does it refuse a listener without a signed token (which tells whether its listener checks
come to this controller). Owns the wording of those lines; the requests are controller.streaming.admin's.
"""

import sys
import urllib.error
import urllib.request
from typing import Final

from controller.config import Settings
from controller.streaming import LISTENER_AUTH_PATH
from controller.streaming.admin import admin_accepted, probe_source, source_url
from controller.streaming.server import StreamingServer

CHECK_MOUNT: Final = "/loaxa-check-config"


def _listener_status(base_url: str) -> int | None:
    """The HTTP status of an unsigned listener on a mount nobody feeds; None when nobody answers."""
    try:
        with urllib.request.urlopen(f"{base_url}{CHECK_MOUNT}", timeout=3):  # noqa: S310 - configured URL
            return 200
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    except OSError:
        return None


def check_stream(settings: Settings) -> int:
    """Print what the province's Icecast says to our logins; 1 when a login is refused, else 0.

    A server that does not answer is a warning, not a failure: the controller starts without it and only
    live sessions wait for it.
    """
    if settings.stream.mode != "external":
        return 0
    admin = StreamingServer(settings, b"").admin
    if admin is None:  # not reached: the settings' validator requires the URL and the source password
        return 0
    where = admin.base_url
    answer = probe_source(source_url(where, admin.source, CHECK_MOUNT))
    if answer == "unreachable":
        print(
            f"⚠ Icecast của tỉnh {where}: không kết nối được; phát trực tiếp sẽ chờ đến khi máy chủ này "
            "trả lời. Hãy kiểm tra LOAXA_STREAM_URL và mạng.",
            file=sys.stderr,
        )
        return 0
    failures = 0
    if answer == "refused":
        print(
            f"✗ Icecast của tỉnh {where}: từ chối tài khoản nguồn «{admin.source.user}». Hãy đặt "
            "LOAXA_STREAM_SOURCE_USER/LOAXA_STREAM_SOURCE_PASSWORD đúng như <source-password> trong "
            "icecast.xml của tỉnh.",
            file=sys.stderr,
        )
        failures += 1
    else:
        print(f"✓ Icecast của tỉnh {where}: nhận tài khoản nguồn «{admin.source.user}»")
    try:
        admin_ok = admin_accepted(admin)
    except OSError:
        admin_ok = True  # answered the source probe a moment ago: a passing network hiccup, not a login
    if not admin_ok:
        print(
            f"✗ Icecast của tỉnh {where}: từ chối tài khoản quản trị LOAXA_STREAM_ADMIN_USER. Hãy sửa "
            "LOAXA_STREAM_ADMIN_USER/LOAXA_STREAM_ADMIN_PASSWORD hoặc bỏ cả hai (khi đó loaxa đọc "
            "status-json.xsl).",
            file=sys.stderr,
        )
        failures += 1
    if _listener_status(where) == 404:
        print(
            f'⚠ Icecast của tỉnh {where}: cho nghe mà không hỏi mã nghe; hãy thêm <mount type="default"> '
            f'với <authentication type="url"> trỏ tới {settings.asset_base_url}{LISTENER_AUTH_PATH} '
            "(docs/streaming.md, «Icecast của tỉnh»).",
            file=sys.stderr,
        )
    return 1 if failures else 0
