"""The emergency button: an immediate broadcast, with a confirmation step, for approvers who may also write.

The header of every page links here (one tap); the confirmation plays a voice preview of the words
(web.ui.preview, fetched by the page's script with progress shown) before the final button.
Owns the two-step form. The `broadcast_emergency` use case writes, submits and approves the bulletin in one
step (the confirmation stands in for the second approver unless the two-person rule is on) and announces
it: the runtime renders it and sends play_now to the targets. Who may, and how it is logged, is the use
case's rule (docs/security.md), the same as over the API.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller.services.errors import ServiceError
from web.context import web_context
from web.ui import common, preview, targets
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_emergency", __name__))


def _choices() -> dict[str, object]:
    """The places the user may pick (web.ui.targets): a commune's villages, or the areas under them."""
    context = web_context()
    with context.db.session() as db:
        return {"offered": targets.choices(db, user(), context.clock())}


@bp.get("/emergency")
@page("emergency.broadcast")
def form() -> str:
    """Step 1: what to say and where."""
    return render_template("ui/emergency.html", form=request.args, confirm=False, **_choices())


@bp.post("/emergency/confirm")
@page("emergency.broadcast")
def confirm() -> str | tuple[str, int]:
    """Step 2: show what will be broadcast at once and ask to confirm."""
    if not request.form.get("title", "").strip() or not request.form.get("text", "").strip():
        flash("Hãy nhập tiêu đề và nội dung thông báo khẩn cấp.", "error")
        return render_template("ui/emergency.html", form=request.form, confirm=False, **_choices()), 422
    return render_template("ui/emergency.html", form=request.form, confirm=True, **_choices())


@bp.post("/emergency/preview")
@page("emergency.broadcast")
def hear() -> tuple[str, int]:
    """The voice preview of the confirmation: a fragment for the script, else the confirmation with it."""
    text = request.form.get("text", "")
    if preview.wants_fragment():
        return preview.fragment(text)
    answer, status = preview.fragment(text)
    page_html = render_template(
        "ui/emergency.html", form=request.form, confirm=True, heard=answer, **_choices()
    )
    return page_html, status


@bp.post("/emergency")
@page("emergency.broadcast")
def send() -> Response | tuple[str, int]:
    """Put the emergency on air (or record the first approval under the two-person rule)."""
    form_data = request.form
    try:
        view = web_context().bulletins.broadcast_emergency(
            user(),
            title=form_data.get("title", ""),
            text=form_data.get("text", ""),
            targets=targets.targets_of(form_data),
        )
    except ServiceError as exc:
        common.flash_error(exc)
        page_html = render_template("ui/emergency.html", form=form_data, confirm=False, **_choices())
        return page_html, exc.http_status  # 403 for a place outside the user's area
    if view.status != "approved":  # the two-person rule: a second approver must confirm it
        flash("Đã ghi nhận duyệt lần thứ nhất. Cần một người duyệt khác xác nhận trước khi phát.", "info")
    else:
        flash("Đã phát lệnh phát khẩn cấp. Các cụm loa sẽ phát ngay khi nhận được.", "info")
    return redirect(url_for("ui_bulletins.detail", bulletin_id=view.id))
