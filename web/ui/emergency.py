"""The emergency button: an immediate broadcast, with a confirmation step, for approvers who may also write.

Owns the two-step form. The bulletin is created with priority `emergency`, submitted and approved through
controller.services in one transaction (the confirmation stands in for the second approver), then the
runtime's `on_bulletin_changed` hook renders it and sends play_now to the targets.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller import services
from controller.services.errors import ServiceError
from web.context import notify, web_context
from web.ui import common
from web.ui.compose import targets_of
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_emergency", __name__))


def _allowed() -> None:
    """Approvers (who decide) that may also write bulletins: admins today (see services.users)."""
    if not services.can(user(), "bulletin.create"):
        abort(403)


def _choices() -> dict[str, object]:
    me = user()
    context = web_context()
    with context.db.session() as db:
        villages = services.list_villages(db, me.commune_id)
        devices = services.list_devices(db, context.clock(), commune_id=me.commune_id)
    return {"villages": villages, "devices": devices}


@bp.get("/emergency")
@page("bulletin.approve")
def form() -> str:
    """Step 1: what to say and where."""
    _allowed()
    return render_template("ui/emergency.html", form=request.args, confirm=False, **_choices())


@bp.post("/emergency/confirm")
@page("bulletin.approve")
def confirm() -> str | tuple[str, int]:
    """Step 2: show what will be broadcast at once and ask to confirm."""
    _allowed()
    if not request.form.get("title", "").strip() or not request.form.get("text", "").strip():
        flash("Hãy nhập tiêu đề và nội dung thông báo khẩn cấp.", "error")
        return render_template("ui/emergency.html", form=request.form, confirm=False, **_choices()), 422
    return render_template("ui/emergency.html", form=request.form, confirm=True, **_choices())


@bp.post("/emergency")
@page("bulletin.approve")
def send() -> Response | tuple[str, int]:
    """Create, submit and approve the emergency bulletin; the runtime plays it now on every target."""
    _allowed()
    me = user()
    context = web_context()
    form_data = request.form
    try:
        with context.db.session() as db:
            now = context.clock()
            view = services.create_bulletin(
                db,
                me,
                now,
                title=form_data.get("title", ""),
                text=form_data.get("text", ""),
                priority="emergency",
                targets=targets_of(form_data),
            )
            services.submit(db, view.id, me, now)
            view = services.approve(
                db,
                view.id,
                me,
                now,
                allow_self_approval=True,
                two_person_emergency=context.settings.emergency_two_person,
            )
    except ServiceError as exc:
        common.flash_error(exc)
        return render_template("ui/emergency.html", form=form_data, confirm=False, **_choices()), 422
    notify("on_bulletin_changed", context.on_bulletin_changed, view.id)
    if view.status != "approved":  # the two-person rule: a second approver must confirm it
        flash("Đã ghi nhận duyệt lần thứ nhất. Cần một người duyệt khác xác nhận trước khi phát.", "info")
    else:
        flash("Đã phát lệnh phát khẩn cấp. Các cụm loa sẽ phát ngay khi nhận được.", "info")
    return redirect(url_for("ui_bulletins.detail", bulletin_id=view.id))
