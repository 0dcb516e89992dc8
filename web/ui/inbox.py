"""The commune's inbox of bulletins from above, and the sender's view of what became of them (DESIGN §11).

Owns the pages /hop-thu (a commune operator schedules, declines with a reason, or picks the order of a
clash) and /ban-tin/<id>/cac-xa (per commune: waiting, scheduled, declined, played, missed). The rules are
controller.services.inbox; decisions go through controller.usecases.inbox.
"""

from typing import Final

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller import services
from controller.services import inbox
from controller.services.errors import NotFound, ServiceError
from controller.services.scope import sees_bulletin
from web.context import web_context
from web.ui import common
from web.ui import session as ui_session
from web.ui.session import page

bp = common.html_errors(Blueprint("ui_inbox", __name__))

STATES: Final = {
    "waiting": "Chờ xã xếp lịch",
    "scheduled": "Đã xếp lịch",
    "declined": "Xã từ chối",
    "played": "Đã phát",
    "missed": "Không phát được",
}
ORDERS: Final = {"above_first": "Tin cấp trên phát trước", "commune_first": "Tin của xã phát trước"}


@bp.get("/hop-thu")
@page("bulletin.read")
def index() -> str:
    """The inbox of the user's communes: waiting entries and clashes first."""
    me = ui_session.user()
    with web_context().db.session() as db:
        items = inbox.list_inbox(db, services.scope_of(db, me))
    return render_template("ui/inbox.html", items=items, STATES=STATES, ORDERS=ORDERS)


@bp.post("/hop-thu/<int:entry_id>")
@page("inbox.decide")
def decide(entry_id: int) -> Response:
    """Schedule, decline (with a reason) or set the order of one entry."""
    me = ui_session.user()
    action = request.form.get("action", "")
    cases = web_context().inbox
    try:
        if action == "schedule":
            item = cases.schedule(me, entry_id)
            flash(f"Đã xếp lịch bản tin “{item.title}”: sẽ phát trong khung giờ tới của xã.", "info")
        elif action == "decline":
            item = cases.decline(me, entry_id, request.form.get("reason", ""))
            flash(f"Đã từ chối bản tin “{item.title}”; lý do đã gửi lên cấp trên.", "info")
        elif action in ORDERS:
            item = cases.set_order(me, entry_id, action)
            flash(f"Đã chọn thứ tự: {ORDERS[action].lower()}.", "info")
        else:
            flash("Chưa rõ việc cần làm: chọn Xếp lịch, Từ chối hoặc một thứ tự phát.", "error")
    except ServiceError as exc:
        common.flash_error(exc)
    return redirect(url_for("ui_inbox.index"))


@bp.get("/ban-tin/<int:bulletin_id>/cac-xa")
@page("bulletin.read")
def outcomes(bulletin_id: int) -> str:
    """Per commune a bulletin from above reached: what became of it, and why."""
    me = ui_session.user()
    with web_context().db.session() as db:
        bulletin = services.get_bulletin(db, bulletin_id)
        if not sees_bulletin(db, services.scope_of(db, me), bulletin_id):
            raise NotFound(f"Không có bản tin #{bulletin_id} trong địa bàn của bạn.")
        rows = inbox.outcomes(db, bulletin_id)
    counts = {state: sum(1 for r in rows if r.state == state) for state in STATES}
    return render_template("ui/outcomes.html", bulletin=bulletin, rows=rows, counts=counts, STATES=STATES)
