"""The statistics page (DESIGN §11): an area's plays, airtime, cluster availability and outages, per commune.

Owns /thong-ke; the sums are controller.services.stats, read through web.api.stats.area_statistics (the
same area check as the API). Province and district staff see one row per commune; CSV comes from the API.
"""

from datetime import date, datetime, time, timedelta
from typing import Final

from flask import Blueprint, render_template, request

from controller import services
from controller.services.scope import areas_to_choose
from web.api.stats import area_statistics
from web.context import web_context
from web.ui import common
from web.ui import session as ui_session
from web.ui.session import page

bp = common.html_errors(Blueprint("ui_stats", __name__))
CAUSES: Final = {
    "restart": "Khởi động lại (mất điện hoặc lỗi máy)",
    "network": "Mất kết nối mạng",
    "ongoing": "Đang mất liên lạc",
}


def _day(value: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(value) if value else fallback
    except ValueError:
        return fallback


@bp.get("/thong-ke")
@page("stats.read")
def index() -> str:
    """Statistics of the chosen area (default: the user's) over [from, to] (default: the last 7 days)."""
    me = ui_session.user()
    zone = common.schedule().timezone
    today = common.now().astimezone(zone).date()
    first = _day(request.args.get("from"), today - timedelta(days=6))
    last = _day(request.args.get("to"), today)
    with web_context().db.session() as db:
        own = services.user_area(db, me)
        choices = areas_to_choose(db, own)
    area = request.args.get("area") or own
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    result = area_statistics(own, area, start, end)
    return render_template(
        "ui/stats.html", result=result, area=area, first=first, last=last, CAUSES=CAUSES,
        choices=choices,
    )  # fmt: skip
