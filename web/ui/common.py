"""What every UI page shares: the commune's clock and windows, Vietnamese labels, bars, error pages.

Owns template helpers (filters, globals) and the HTML error pages of the UI blueprints. Must not decide
permissions (services.users does) or change anything.
"""

import functools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from flask import Blueprint, Flask, flash, render_template
from werkzeug.exceptions import HTTPException

from controller import services
from controller.assets import sign_asset_url
from controller.i18n import format_duration, format_megabytes, format_percent
from controller.i18n.vocabulary import describe_action
from controller.planning import Schedule, load_schedule
from controller.services.errors import ServiceError
from controller.tts.errors import TtsError
from web.context import web_context
from web.ui import session as ui_session

ROLES: Final = {
    "admin": "Quản trị",
    "operator": "Cán bộ đài",
    "approver": "Lãnh đạo duyệt tin",
    "viewer": "Người xem",
}
STATUSES: Final = {
    "draft": "Bản nháp",
    "pending": "Chờ duyệt",
    "approved": "Đã duyệt",
    "rejected": "Bị từ chối",
    "cancelled": "Đã hủy",
    "done": "Đã phát xong",
    "expired": "Hết hạn",
}
PRIORITIES: Final = {"normal": "Thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}
LANGUAGES: Final = {"vi": "Tiếng Việt", "thai": "Tiếng Thái", "mong": "Tiếng Mông", "dao": "Tiếng Dao"}
# Who read each audio version (an asset's engine), as the bulletin pages say it.
ENGINES: Final = {
    "gtts": "giọng Google (trực tuyến)",
    "piper": "giọng Piper (trên máy chủ xã)",
    "espeak-ng": "giọng dự phòng espeak-ng (khó nghe; sẽ đọc lại khi có giọng tốt hơn)",
    "recording": "bản ghi âm",
}
# The voice a preview was read with, in plain words (no engine jargon).
VOICES: Final = {
    "gtts": "giọng Google (cần Internet)",
    "piper": "giọng máy trên máy chủ xã (Piper)",
    "espeak-ng": "giọng máy dự phòng (espeak-ng)",
    "recording": "bản ghi âm",
}
PLAY_STATES: Final = {
    "finished": "Đã phát",
    "started": "Đang phát",
    "interrupted": "Bị ngắt",
    "skipped": "Bỏ qua",
    "failed": "Lỗi",
    "planned": "Đã xếp lịch",
    "played": "Đã phát",
    "pending": "Đang chờ",
}
WINDOWS: Final = {"morning": "Buổi sáng", "evening": "Buổi chiều"}
_ERRORS: Final = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Bạn không có quyền làm việc này",
    404: "Không tìm thấy",
    409: "Trạng thái không cho phép",
    413: "Tệp quá lớn",
    422: "Dữ liệu chưa đúng",
}


AUDIO_LINK_TTL: Final = timedelta(hours=12)


@functools.cache
def _schedule(path: Path, _mtime: float) -> Schedule:
    return load_schedule(path)


def schedule() -> Schedule:
    """The commune's broadcast windows (re-read when the file changes)."""
    path = web_context().settings.schedule
    return _schedule(path, path.stat().st_mtime)


def now() -> datetime:
    """The runtime's clock (UTC)."""
    return web_context().clock()


def local(moment: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    """A UTC moment in the commune's local time, Vietnamese order (time, then day/month/year)."""
    if moment is None:
        return "—"
    return moment.astimezone(schedule().timezone).strftime(fmt)


def ago(moment: datetime | None) -> str:
    """How long ago, in Vietnamese words ("5 phút trước")."""
    if moment is None:
        return "chưa từng"
    seconds = int((now() - moment).total_seconds())
    if seconds < 60:
        return "vừa xong"
    if seconds < 3600:
        return f"{seconds // 60} phút trước"
    if seconds < 86400:
        return f"{seconds // 3600} giờ trước"
    return f"{seconds // 86400} ngày trước"


def minutes(seconds: float) -> str:
    """Seconds as minutes with one decimal, Vietnamese style: 90 → "1,5"."""
    return f"{seconds / 60:.1f}".replace(".", ",")


def percent(fraction: float | None) -> str:
    """0.987 → "98,7%" (Vietnamese decimal comma)."""
    return format_percent(fraction)


def audio_url(sha256: str) -> str:
    """A same-origin signed link to an audio asset, valid for a working day (the page's players use it)."""
    context = web_context()
    return sign_asset_url("", sha256, context.asset_url_secret, context.clock() + AUDIO_LINK_TTL)


def flash_error(exc: ServiceError | TtsError) -> None:
    """Show a service's refusal on the next page."""
    flash(str(getattr(exc, "message", exc)), "error")


def _error_page(status: int, message: str) -> tuple[str, int]:
    title = _ERRORS.get(status, "Đã có lỗi")
    return render_template("ui/error.html", title=title, message=message, status=status), status


def _http(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    message = exc.description if status in (400, 413) else _ERRORS.get(status, "Đã có lỗi, hãy thử lại.")
    return _error_page(status, message or "")


def _service(exc: ServiceError) -> tuple[str, int]:
    return _error_page(exc.http_status, exc.message)


def html_errors(bp: Blueprint) -> Blueprint:
    """Make a UI blueprint answer its errors with an HTML page (the app's handlers answer JSON)."""
    bp.register_error_handler(HTTPException, _http)
    bp.register_error_handler(ServiceError, _service)
    return bp


def install_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    app.jinja_env.filters.update(
        local=local,
        ago=ago,
        percent=percent,
        minutes=minutes,
        duration=format_duration,
        megabytes=format_megabytes,
        action_label=lambda code: describe_action(code).render(),
    )

    @app.context_processor
    def _globals() -> dict[str, Any]:
        user = ui_session.current_user()
        return {
            "me": user,
            "may": (lambda action: user is not None and services.can(user, action)),
            "csrf_token": ui_session.csrf_token,
            "ROLES": ROLES,
            "STATUSES": STATUSES,
            "PRIORITIES": PRIORITIES,
            "LANGUAGES": LANGUAGES,
            "ENGINES": ENGINES,
            "VOICES": VOICES,
            "PLAY_STATES": PLAY_STATES,
            "WINDOWS": WINDOWS,
        }
