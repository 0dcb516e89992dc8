"""Drills in the UI: start one (a short announced test, at once) and read its report.

Owns the pages `/drills` (start, and the newest drills) and `/drills/<id>` (which clusters played it, with
their delay, and which did not, with when they were last heard from). Starting goes through the drill use
case (controller.usecases.drills), the report is controller.services.drills'.
"""

from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller.services import drills
from controller.services.errors import ServiceError, ValidationFailed
from web.context import web_context
from web.ui import common
from web.ui.session import page, user
from web.ui.targets import targets_of, villages_under

bp = common.html_errors(Blueprint("ui_drills", __name__))
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def _index(status: int = 200) -> tuple[str, int]:
    with web_context().db.session() as db:
        villages = villages_under(db, user())
        recent = drills.list_drills(db)
    rows = [(i, at.astimezone(LOCAL).strftime("%H:%M:%S %d/%m/%Y"), origin) for i, at, origin in recent]
    return render_template(
        "ui/drills.html", villages=villages, recent=rows, text=drills.DRILL_TEXT,
        volume=request.form.get("volume", str(drills.DEFAULT_DRILL_VOLUME)),
    ), status  # fmt: skip


def _volume(text: str) -> int:
    """The form's volume: a whole number 0–100 (the drill's loudness on every cluster)."""
    cleaned = text.strip()
    if not cleaned.isdigit() or int(cleaned) > 100:
        raise ValidationFailed(
            f"Âm lượng phát thử phải là số nguyên từ 0 đến 100, không phải '{cleaned[:20]}'; "
            f"để trống thì dùng {drills.DEFAULT_DRILL_VOLUME}."
        )
    return int(cleaned)


@bp.get("/drills")
@page("plays.read")
def index() -> tuple[str, int]:
    """The newest drills, and the form to start one."""
    return _index()


@bp.post("/drills")
@page("drill.run")
def start() -> Response | tuple[str, int]:
    """Start a drill on the chosen villages (or all) at the chosen volume and show its report."""
    try:
        volume = _volume(request.form.get("volume") or str(drills.DEFAULT_DRILL_VOLUME))
        drill_id, _ = web_context().drills.start(user(), targets=targets_of(request.form), volume=volume)
    except ServiceError as exc:
        common.flash_error(exc)
        return _index(422)
    flash("Đã bắt đầu phát thử. Tải lại trang để xem cụm loa nào đã phát.", "info")
    return redirect(url_for("ui_drills.report", drill_id=drill_id))


@bp.get("/drills/<int:drill_id>")
@page("plays.read")
def report(drill_id: int) -> str:
    """Acknowledged clusters with their delay; missing ones with their last contact."""
    with web_context().db.session() as db:
        found = drills.drill_report(db, drill_id)
    return render_template(
        "ui/drill.html", r=found, local=lambda at: at.astimezone(LOCAL).strftime("%H:%M:%S %d/%m")
    )
