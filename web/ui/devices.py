"""The devices dashboard (paged, by village), one device's page with its heartbeat timeline, and commands.

Owns the HTML side of devices. The registry and uptime are controller.services; commands reach the
broker only through the runtime's `send_command` hook.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller import services
from controller.planning import occurrences
from controller.services.views import DeviceView
from controller.tts.voices import espeak_warning
from web.context import web_context
from web.ui import common, health, query
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_devices", __name__))

COMMANDS = {"test_tone": "Phát tiếng thử", "set_volume": "Đặt âm lượng", "stop": "Dừng phát"}
STATES: Final = {"offline": "Ngoại tuyến", "online": "Trực tuyến", "alert": "Có cảnh báo"}
PAGE_SIZE: Final = 24  # cards a phone scrolls through comfortably; the filters reach the rest
MAX_ALERTS: Final = 20


@dataclass(frozen=True)
class VillageHealth:
    """How a village's clusters are doing, for the summary and the village filter."""

    id: str
    name: str
    total: int
    online: int
    uptime_24h: float


def summarize(views: list[DeviceView], villages: dict[str, str]) -> list[VillageHealth]:
    """Per village with clusters: online count and mean 24 h uptime, by village name."""
    by_village: dict[str, list[DeviceView]] = {}
    for view in views:
        by_village.setdefault(view.village_id, []).append(view)
    return sorted(
        (
            VillageHealth(
                id=village_id,
                name=villages.get(village_id, village_id),
                total=len(members),
                online=sum(1 for v in members if v.online),
                uptime_24h=sum(v.uptime_24h for v in members) / len(members),
            )
            for village_id, members in by_village.items()
        ),
        key=lambda v: (v.name, v.id),
    )


def _filtered(
    views: list[DeviceView], village: str | None, state: str | None, now: datetime, minutes: int
) -> list[DeviceView]:
    """The devices of one village and / or one state (online, offline, with an alert)."""
    if village is not None:
        views = [v for v in views if v.village_id == village]
    if state == "online":
        return [v for v in views if v.online]
    if state == "offline":
        return [v for v in views if not v.online]
    if state == "alert":
        alerted = {v.id for v, _ in health.alerts(views, now, minutes)}
        return [v for v in views if v.id in alerted]
    return views


@bp.get("/devices")
@page("device.read")
def dashboard() -> str:
    """The clusters: totals, a summary per village, alerts, then one page of cards with uptime bars.

    A province has thousands of clusters, so the cards are paged and can be filtered by village and state;
    every figure comes from a fixed number of queries whatever the number of devices.
    """
    me = user()
    context = web_context()
    now = context.clock()
    minutes = query.number("phut", health.OFFLINE_ALERT_MINUTES, 1, query.MAX_MINUTES)
    village = request.args.get("thon") or None
    state = request.args.get("trang_thai") if request.args.get("trang_thai") in STATES else None
    with context.db.session() as db:
        views = services.list_devices(db, now, commune_id=me.commune_id)
        villages = {v.id: v.name for v in services.list_villages(db, me.commune_id)}
        if village not in villages:
            village = None
        shown = _filtered(views, village, state, now, minutes)
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        number = query.number("trang", 1, 1, pages)
        cards = shown[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        windows = [(w.start, w.end) for w in occurrences(common.schedule(), now - health.WEEK, now)]
        availability = services.window_uptime(db, [v.id for v in cards], windows, now)
        speech_warning = espeak_warning(context.settings.tts, services.latest_speech_engine(db))
    alerts = health.alerts(shown, now, minutes)
    filters = {
        "phut": minutes if minutes != health.OFFLINE_ALERT_MINUTES else None,
        "thon": village,
        "trang_thai": state,
    }
    return render_template(
        "ui/devices.html",
        rows=[(v, health.metrics(v), availability[v.id]) for v in cards],
        villages=villages,
        summary=summarize(views, villages),
        alerts=alerts[:MAX_ALERTS],
        more_alerts=len(alerts) - MAX_ALERTS,
        minutes=minutes,
        online=sum(1 for v in views if v.online),
        total=len(views),
        uptime_24h=sum(v.uptime_24h for v in views) / len(views) if views else None,
        uptime_7d=sum(v.uptime_7d for v in views) / len(views) if views else None,
        shown=len(shown),
        village=village,
        state=state,
        states=STATES,
        page_number=number,
        pages=pages,
        filters={k: v for k, v in filters.items() if v is not None},
        speech_warning=speech_warning,
    )


@bp.get("/devices/<device_id>")
@page("device.read")
def device(device_id: str) -> str:
    """One cluster: state, metrics, heartbeat timeline over 24 h and 7 d, recent plays, commands."""
    me = user()
    context = web_context()
    now = context.clock()
    with context.db.session() as db:
        view = services.get_device(db, device_id, now)
        villages = {v.id: v for v in services.list_villages(db, me.commune_id)}
        if view.village_id not in villages:
            abort(404)
        day = health.heartbeat_bar(db, device_id, now, timedelta(hours=24))
        week = health.heartbeat_bar(db, device_id, now, timedelta(days=7))
        availability = health.window_availability(db, device_id, now)
        plays = services.list_plays(db, start=now - timedelta(days=7), device_id=device_id)[-20:]
    return render_template(
        "ui/device.html",
        d=view,
        village=villages[view.village_id],
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
    try:
        context.send_command(view.id, body)
    except ConnectionError:
        flash("Không gửi được lệnh: máy chủ tin nhắn (MQTT) chưa sẵn sàng. Hãy thử lại sau ít phút.", "error")
    else:
        flash(f"Đã gửi lệnh “{COMMANDS[name]}” tới {view.name}.", "info")
    return redirect(url_for("ui_devices.device", device_id=device_id))
