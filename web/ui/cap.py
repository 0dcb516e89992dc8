"""The admins' page "Nguồn cảnh báo CAP": the CAP sources, their counters and newest refusals, adding one.

Owns `/cap/sources` (the list and the add form) and its POST (the new source's push URL and token, shown
on that answer only, never stored in the session). Policies are picked from controller.cap.policy's
presets with a drill volume; the checks and the storing are controller.services.cap_sources' (the same as
`POST /api/v1/cap/sources`). Must not parse CAP.
"""

from datetime import datetime
from typing import Any, Final

from flask import Blueprint, render_template, request, url_for

from controller.cap.policy import PRESETS, Policy
from controller.services import cap_sources
from controller.services.drills import DEFAULT_DRILL_VOLUME
from controller.services.errors import ServiceError, ValidationFailed
from web.context import web_context
from web.ui import common
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_cap", __name__))

#: Each refusal reason (controller.cap.model.REASONS) and the counters' other keys, in words.
REASONS: Final = {
    "accepted": "Đã nhận",
    "refused": "Bị từ chối",
    "malformed_xml": "XML hỏng",
    "forbidden_dtd": "Có khai báo DTD (bị cấm)",
    "schema_invalid": "Sai lược đồ CAP 1.2",
    "not_cap": "Không phải cảnh báo CAP",
    "too_large": "Tài liệu quá lớn",
    "unknown_sender": "Bên gửi không có trong danh sách",
    "no_signature": "Thiếu chữ ký số",
    "bad_signature": "Chữ ký số sai",
    "unknown_reference": "Nhắc tới cảnh báo chưa từng nhận",
    "expired": "Đã hết hạn",
    "unknown_area": "Vùng không có cụm loa",
    "not_playable": "Không tạo được bản tin",
    "fetch_failed": "Không đọc được địa chỉ",
    "fetch_timeout": "Đọc địa chỉ quá lâu",
    "bad_resource": "Tệp âm thanh không khớp",
}
#: The policy presets in words (the keys of controller.cap.policy.PRESETS).
PRESET_LABELS: Final = {
    "default": "Mặc định: cảnh báo Cực kỳ nghiêm trọng + Khẩn cấp + Đã xảy ra/Có khả năng thì phát ngay, "
    "không chờ duyệt; Nghiêm trọng trở lên vào hàng ưu tiên; còn lại vào hộp thư",
    "priority": "Không tự phát: Nghiêm trọng trở lên vào hàng ưu tiên chờ duyệt, còn lại vào hộp thư",
    "people": "Không tự phát: mọi cảnh báo vào hộp thư để người duyệt",
}
ACTIONS: Final = {
    "emergency": "phát khẩn cấp ngay",
    "priority": "chờ duyệt, ưu tiên",
    "inbox": "vào hộp thư",
    "ignore": "bỏ qua",
    "drill": "phát thử",
    "cancel": "huỷ bản tin",
    "pending": "đang xử lý",
}


def _preset_of(policy: Policy) -> str | None:
    """The preset a source's policy is (whatever its drill volume), or None for one set over the API."""
    return next(
        (key for key, preset in PRESETS.items()
         if preset.model_copy(update={"drill_volume": policy.drill_volume}) == policy),
        None,
    )  # fmt: skip


def _when(iso: str) -> str:
    return common.local(datetime.fromisoformat(iso), "%H:%M:%S %d/%m/%Y")


def _page(status: int = 200, created: dict[str, Any] | None = None) -> tuple[str, int]:
    with web_context().db.session() as session:
        sources = [(view, cap_sources.recent_alerts(session, view.id, limit=5))
                   for view in cap_sources.list_sources(session)]  # fmt: skip
    html = render_template(
        "ui/cap_sources.html", sources=sources, reasons=REASONS, presets=PRESET_LABELS, actions=ACTIONS,
        created=created, form=request.form if request.method == "POST" else {},
        default_volume=DEFAULT_DRILL_VOLUME, preset_of=_preset_of, when=_when,
    )  # fmt: skip
    return html, status


@bp.get("/cap/sources")
@page("cap.manage")
def sources() -> tuple[str, int]:
    """Every source with its counters and newest refusals, and the form to add one."""
    return _page()


def _drill_volume(text: str) -> int:
    cleaned = text.strip() or str(DEFAULT_DRILL_VOLUME)
    if not cleaned.isdigit() or int(cleaned) > 100:
        raise ValidationFailed(
            f"Âm lượng phát thử phải là số nguyên từ 0 đến 100, không phải '{cleaned[:20]}'; "
            f"để trống thì dùng {DEFAULT_DRILL_VOLUME}."
        )
    return int(cleaned)


@bp.post("/cap/sources")
@page("cap.manage")
def add() -> tuple[str, int]:
    """Add a source; the answer shows its push URL and token this once."""
    form = request.form
    preset = PRESETS.get(form.get("preset", ""))
    context = web_context()
    try:
        if preset is None:
            raise ValidationFailed("Chọn một chính sách trong danh sách.")
        policy = preset.model_copy(update={"drill_volume": _drill_volume(form.get("drill_volume", ""))})
        senders = [s for line in form.get("senders", "").splitlines() for s in line.split(",")]
        with context.db.session() as session:
            view, token = cap_sources.create_source(
                session, context.clock(), name=form.get("name", ""), url=form.get("url", "").strip() or None,
                senders=senders, certificate=None, policy=policy.model_dump(mode="json"),
                actor=user().username,
            )  # fmt: skip
    except ServiceError as exc:
        common.flash_error(exc)
        return _page(422)
    push_url = url_for("cap.push", source_id=view.id, _external=True)
    return _page(201, created={"name": view.name, "push_url": push_url, "push_token": token})
