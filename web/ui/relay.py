"""The "Tiếp sóng" page (issue 13, item 6): the stations a commune relays, and writing a relay slot.

Owns the page and its three forms: add a station, retire one (`station.manage`), and write a relay slot
(a station, a start time, a length in minutes, the days and the villages) that is saved and submitted for
approval like any bulletin. The rules (URL shapes, inside one window, no overlap) are
controller.services'; changes go through the use cases in WebContext (`stations`, `bulletins`).
"""

from typing import Any, Final

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from controller import services
from controller.services import stations as station_services
from controller.services.errors import ServiceError
from controller.usecases import BulletinDraft
from web.context import web_context
from web.ui import common, schedule_form
from web.ui.session import page, user
from web.ui.targets import targets_of

bp = common.html_errors(Blueprint("ui_relay", __name__))
# The relay form offers days as the compose form does, without "the next window" (a slot needs a time).
SLOT_MODES: Final = tuple(m for m in schedule_form.MODES if m[0] != "next_window")
MAX_MINUTES: Final = 240  # the services' 4 h limit, in the form's unit


class _FormProblem(Exception):
    """Something the relay form lacks, said in Vietnamese."""


def _page(form: MultiDict[str, str], status: int = 200) -> tuple[str, int]:
    me = user()
    context = web_context()
    with context.db.session() as db:
        stations = station_services.list_stations(db, commune_id=me.commune_id)
        villages = services.list_villages(db, me.commune_id)
    html = render_template(
        "ui/relay.html",
        form=form,
        stations=stations,
        villages=villages,
        schedule_modes=SLOT_MODES,
        weekdays=schedule_form.WEEKDAYS,
        date_fields=schedule_form.DATE_FIELDS,
        windows=common.schedule().windows,
        max_minutes=MAX_MINUTES,
    )
    return html, status


@bp.get("/tiep-song")
@page("station.read")
def index() -> tuple[str, int]:
    """The stations in service, and the forms."""
    return _page(MultiDict({"schedule": "daily"}))


@bp.post("/tiep-song/dai")
@page("station.manage")
def add_station() -> Response | tuple[str, int]:
    """Add a station: a name and its stream URLs, one a line, in the order the loudspeakers try them."""
    form = request.form
    urls = [line.strip() for line in form.get("urls", "").splitlines() if line.strip()]
    try:
        view = web_context().stations.create(user(), name=form.get("name", ""), urls=urls)
    except ServiceError as exc:
        common.flash_error(exc)
        return _page(form, status=422)
    flash(f"Đã thêm đài {view.name}. Giờ có thể đặt lượt tiếp sóng đài này.", "info")
    return redirect(url_for("ui_relay.index"))


@bp.post("/tiep-song/dai/<int:station_id>/ngung")
@page("station.manage")
def retire_station(station_id: int) -> Response | tuple[str, int]:
    """Take a station out of service; its approved slots are no longer planned."""
    try:
        view = web_context().stations.retire(user(), station_id)
    except ServiceError as exc:
        common.flash_error(exc)
        return _page(MultiDict(), status=422)
    flash(f"Đã ngừng tiếp sóng đài {view.name}. Các lượt đã duyệt của đài này sẽ không phát nữa.", "info")
    return redirect(url_for("ui_relay.index"))


def _source(form: MultiDict[str, str]) -> dict[str, Any]:
    station = form.get("station", "")
    if not station.isdigit():
        raise _FormProblem("Hãy chọn đài để tiếp sóng.")
    minutes = form.get("minutes", "").strip()
    if not minutes.isdigit() or not 1 <= int(minutes) <= MAX_MINUTES:
        raise _FormProblem(f"Thời lượng “{minutes:.20}” phải là số phút từ 1 đến {MAX_MINUTES}.")
    return {"kind": "relay", "station": int(station), "duration_s": int(minutes) * 60}


def _schedule(form: MultiDict[str, str]) -> dict[str, Any]:
    if not form.get("start_time", "").strip():
        raise _FormProblem("Hãy nhập giờ bắt đầu tiếp sóng (giờ:phút), nằm trong một khung giờ phát.")
    if form.get("schedule") not in dict(SLOT_MODES):
        raise _FormProblem("Hãy chọn ngày tiếp sóng: những ngày chọn, hoặc hằng ngày.")
    try:
        return schedule_form.schedule_of(form, common.schedule().timezone)
    except schedule_form.ScheduleProblem as exc:
        raise _FormProblem(str(exc)) from exc


def _title(form: MultiDict[str, str], station_id: int) -> str:
    if form.get("title", "").strip():
        return form["title"]
    with web_context().db.session() as db:
        return f"Tiếp sóng {station_services.get_station(db, station_id).name}"


@bp.post("/tiep-song/luot")
@page("bulletin.create")
def create_slot() -> Response | tuple[str, int]:
    """Save the relay slot, submit it for approval and open its page."""
    form = request.form
    try:
        source = _source(form)
        draft = BulletinDraft(
            title=_title(form, source["station"]),
            text=None,
            targets=targets_of(form),
            schedule=_schedule(form),
            source=source,
        )
        view = web_context().bulletins.create(user(), draft, submit=True)
    except _FormProblem as exc:
        flash(str(exc), "error")
        return _page(form, status=422)
    except ServiceError as exc:
        common.flash_error(exc)
        return _page(form, status=422)
    flash("Đã gửi lượt tiếp sóng đi duyệt.", "info")
    return redirect(url_for("ui_bulletins.detail", bulletin_id=view.id))
