"""The devices dashboard (paged, by village), one device's page with its heartbeat timeline, and commands.

The dashboard opens with the "Đang phát" card (web.ui.on_air): what each village plays now.

Owns the HTML side of devices. The registry and uptime are controller.services; commands reach the
broker only through the runtime's `send_command` hook.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from controller import services
from controller.planning import occurrences
from controller.services import VillageTally, area_board
from controller.services.views import UserView, VillageView
from controller.tts.voices import espeak_warning
from web.context import web_context
from web.ui import common, health, on_air, query, targets
from web.ui.session import page, user, user_scope

bp = common.html_errors(Blueprint("ui_devices", __name__))

COMMANDS = {"test_tone": "Phát tiếng thử", "set_volume": "Đặt âm lượng", "stop": "Dừng phát"}
STATES: Final = {"offline": "Ngoại tuyến", "online": "Trực tuyến", "alert": "Có cảnh báo"}
PAGE_SIZE: Final = 24  # cards a phone scrolls through comfortably; the filters reach the rest
MAX_ALERTS: Final = 20
DAY_SLOTS: Final = 96  # quarter hours
WEEK_SLOTS: Final = 168  # hours


@dataclass(frozen=True)
class VillageHealth:
    """How a village's clusters are doing, for the summary and the village filter."""

    id: str
    name: str
    total: int
    online: int
    uptime_24h: float
    href: str  # the dashboard filtered to this village, keeping the other filters


@bp.get("/devices")
@page("device.read")
def dashboard() -> str:
    """The clusters: totals, a summary per village, alerts, then one page of cards with uptime bars.

    A province has thousands of clusters, so the cards are paged and can be filtered by village and state;
    the totals and the summary are summed in SQL, and only the alerted devices and the page are read.
    """
    me = user()
    context = web_context()
    now = context.clock()
    commune = me.commune_id
    board = None
    opened = None  # the commune staff above a commune opened (`xa`): every link on its page keeps it
    with context.db.session() as db:
        scope = user_scope(db, me)
        if scope.above_commune():  # a province or district: one row per commune (DESIGN §11)
            commune = opened = request.args.get("xa") if scope.covers(request.args.get("xa")) else None
            if commune is None:
                board = area_board.commune_board(db, now, scope)
    if board is not None:  # rendered after the transaction: the header reads the database too
        return render_template("ui/devices_areas.html", rows=board.rows, uptime_at=board.uptime_at, now=now)
    minutes = query.number("phut", health.OFFLINE_ALERT_MINUTES, 1, query.MAX_MINUTES)
    village = request.args.get("thon") or None
    state = request.args.get("trang_thai") if request.args.get("trang_thai") in STATES else None
    online = {"online": True, "offline": False}.get(state or "")
    with context.db.session() as db:
        tallies = services.village_tallies(db, now, commune_id=commune)
        villages = {v.id: v.name for v in services.list_villages(db, commune)}
        if village not in villages:
            village = None
        candidates = services.alert_candidates(
            db, now, timedelta(minutes=minutes), commune_id=commune, village_id=village, online=online
        )
        alerts = health.alerts(candidates, now, minutes)
        flagged = list(dict.fromkeys(device.id for device, _ in alerts))
        shown = len(flagged) if state == "alert" else _count(tallies, village, online)
        pages = max(1, -(-shown // PAGE_SIZE))
        number = query.number("trang", 1, 1, pages)
        offset = (number - 1) * PAGE_SIZE
        if state == "alert":
            cards = services.devices_by_id(db, now, flagged[offset : offset + PAGE_SIZE])
        else:
            cards = services.device_page(
                db,
                now,
                commune_id=commune,
                village_id=village,
                online=online,
                offset=offset,
                limit=PAGE_SIZE,
            )
        windows = [(w.start, w.end) for w in occurrences(common.schedule(), now - health.WEEK, now)]
        availability = services.window_uptime(db, [v.id for v in cards], windows, now)
        speech_warning = espeak_warning(context.settings.tts, services.latest_speech_engine(db))
        playing_now = on_air.villages_on_air(db, commune, villages)
    total = sum(t.total for t in tallies)
    filters = {
        "xa": opened,
        "phut": minutes if minutes != health.OFFLINE_ALERT_MINUTES else None,
        "thon": village,
        "trang_thai": state,
    }
    return render_template(
        "ui/devices.html",
        rows=[(v, health.metrics(v), availability[v.id]) for v in cards],
        villages=villages,
        summary=summarize(
            tallies, villages, {k: v for k, v in filters.items() if v is not None and k != "thon"}
        ),
        alerts=alerts[:MAX_ALERTS],
        more_alerts=len(alerts) - MAX_ALERTS,
        minutes=minutes,
        online=sum(t.online for t in tallies),
        total=total,
        uptime_24h=sum(t.uptime_24h * t.total for t in tallies) / total if total else None,
        uptime_7d=sum(t.uptime_7d * t.total for t in tallies) / total if total else None,
        shown=shown,
        village=village,
        state=state,
        states=STATES,
        page_number=number,
        pages=pages,
        filters={k: v for k, v in filters.items() if v is not None},
        speech_warning=speech_warning,
        on_air=playing_now,
    )


def summarize(
    tallies: list[VillageTally], villages: dict[str, str], filters: dict[str, Any]
) -> list[VillageHealth]:
    """Per village with clusters: online count, mean 24 h uptime and filter link, by village name.

    One `url_for` for all the links: a province has 300 villages, and building each took longer than
    the village's figures.
    """
    base = url_for("ui_devices.dashboard", **filters)
    join = "&" if "?" in base else "?"
    rows = (
        VillageHealth(
            id=t.village_id,
            name=villages.get(t.village_id, t.village_id),
            total=t.total,
            online=t.online,
            uptime_24h=t.uptime_24h,
            href=f"{base}{join}{urlencode({'thon': t.village_id})}",
        )
        for t in tallies
    )
    return sorted(rows, key=lambda v: (v.name, v.id))


def _count(tallies: list[VillageTally], village: str | None, online: bool | None) -> int:
    """How many clusters of the village (or all), online, offline or either, the tallies count."""
    chosen = [t for t in tallies if village in (None, t.village_id)]
    if online is None:
        return sum(t.total for t in chosen)
    return sum(t.online if online else t.total - t.online for t in chosen)


def villages_of(db: Session, me: UserView) -> dict[str, VillageView]:
    """The villages under the user's area, by id: the devices they may open and command."""
    return {v.id: v for v in targets.villages_under(db, me)}


@bp.get("/devices/<device_id>")
@page("device.read")
def device(device_id: str) -> str:
    """One cluster: state, metrics, heartbeat timeline over 24 h and 7 d, recent plays, commands."""
    me = user()
    context = web_context()
    now = context.clock()
    with context.db.session() as db:
        view = services.get_device(db, device_id, now)
        villages = villages_of(db, me)  # also the move form's list
        if view.village_id not in villages:
            abort(404)
        day = health.uptime_bar(db, device_id, now, timedelta(hours=24), DAY_SLOTS)
        week = health.uptime_bar(db, device_id, now, timedelta(days=7), WEEK_SLOTS)
        availability = health.window_availability(db, device_id, now)
        plays = services.list_plays(db, start=now - timedelta(days=7), device_id=device_id)[-20:]
    return render_template(
        "ui/device.html",
        d=view,
        village=villages[view.village_id],
        villages=list(villages.values()),
        m=health.metrics(view),
        day=day,
        week=week,
        availability=availability,
        plays=list(reversed(plays)),
        now=now,
        commands=COMMANDS,
    )


@bp.post("/devices/<device_id>/cmd")
@page("device.manage")
def command(device_id: str) -> Response:
    """Send test tone, volume or stop to the device through the runtime."""
    context = web_context()
    name = request.form.get("command", "")
    if name not in COMMANDS:
        abort(400, "Lệnh không hợp lệ.")
    body: dict[str, Any] = {"command": name}
    if name == "set_volume":
        volume = request.form.get("volume", type=int)
        if volume is None or not 0 <= volume <= 100:
            flash("Âm lượng phải là số từ 0 đến 100.", "error")
            return redirect(url_for("ui_devices.device", device_id=device_id))
        body["volume"] = volume
    with context.db.session() as db:
        view = services.get_device(db, device_id, context.clock())
        if view.village_id not in villages_of(db, user()):
            abort(404)
    try:
        context.send_command(view.id, body)
    except ConnectionError:
        flash("Không gửi được lệnh: máy chủ tin nhắn (MQTT) chưa sẵn sàng. Hãy thử lại sau ít phút.", "error")
    else:
        flash(f"Đã gửi lệnh “{COMMANDS[name]}” tới {view.name}.", "info")
    return redirect(url_for("ui_devices.device", device_id=device_id))
