"""The devices dashboard, one device's page with its heartbeat timeline, and commands to a device.

Owns the HTML side of devices. The registry and uptime are controller.services; commands reach the
broker only through the runtime's `send_command` hook.
"""

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller import services
from web.context import web_context
from web.ui import common, health
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_devices", __name__))

COMMANDS = {"test_tone": "Phát tiếng thử", "set_volume": "Đặt âm lượng", "stop": "Dừng phát"}


@bp.get("/devices")
@page("device.read")
def dashboard() -> str:
    """Every cluster of the commune: online, last seen, uptime bars, window availability, metrics, alerts."""
    me = user()
    context = web_context()
    now = context.clock()
    minutes = request.args.get("phut", type=int) or health.OFFLINE_ALERT_MINUTES
    with context.db.session() as db:
        views = services.list_devices(db, now, commune_id=me.commune_id)
        villages = {v.id: v.name for v in services.list_villages(db, me.commune_id)}
        rows = [(v, health.metrics(v), health.window_availability(db, v.id, now)) for v in views]
    online = sum(1 for v in views if v.online)
    return render_template(
        "ui/devices.html",
        rows=rows,
        villages=villages,
        alerts=health.alerts(views, now, minutes),
        minutes=minutes,
        online=online,
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
