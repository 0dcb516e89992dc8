"""Device administration in the UI: provision (a printable bundle with a QR code), rename, move, revoke.

Owns these forms and the bundle sheet. Each change is a controller use case (controller.usecases.devices),
which commits and announces it, so the managed broker takes a new login or drops a revoked one at once.
The bundle's text is controller.bundle's; its password is shown on the sheet this once and never stored.
"""

from typing import Final

import segno
from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from controller.bundle import AgentBundle
from controller.services.errors import ServiceError
from web.context import web_context
from web.ui import common, targets
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_device_admin", __name__))

# The printed sheet is read by a phone's camera in a dim cabinet: medium error correction and a large module.
QR_ERROR: Final = "m"


def qr_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data: URI (the page's CSP allows data: images, not inline styles)."""
    return str(segno.make(text, error=QR_ERROR).svg_data_uri(scale=4, border=4))


def _new_form(form: MultiDict[str, str], status: int = 200) -> tuple[str, int]:
    me = user()
    with web_context().db.session() as db:
        villages = targets.villages_under(db, me)
    return render_template("ui/device_new.html", form=form, villages=villages), status


@bp.get("/devices/new")
@page("device.manage")
def new() -> tuple[str, int]:
    """The provisioning form: id, name, village and speakers."""
    return _new_form(MultiDict(request.args))


@bp.post("/devices/new")
@page("device.manage")
def provision() -> tuple[str, int]:
    """Provision the cluster and show its bundle sheet (agent.toml and its QR code) to print, this once."""
    me = user()
    context = web_context()
    form = request.form
    speakers = form.get("speakers", "2").strip()
    if not speakers.isdigit():
        flash(f"Số loa “{speakers:.20}” phải là một số nguyên từ 1 đến 64.", "error")
        return _new_form(form, 422)
    try:
        provisioned = context.devices.provision(
            device_id=form.get("id", "").strip(),
            name=form.get("name", ""),
            village_id=form.get("village", ""),
            speakers=int(speakers),
            actor=me.username,
        )
    except ServiceError as exc:
        common.flash_error(exc)
        return _new_form(form, 422)
    mqtt = context.settings.mqtt
    bundle = AgentBundle(
        device_id=provisioned.device.id,
        mqtt_url=mqtt.public_url or mqtt.url,
        mqtt_password=provisioned.mqtt_password,
        public_keys=tuple(context.signing_public_keys),
    )
    with context.db.session() as db:
        village = {v.id: v.name for v in targets.villages_under(db, me)}.get(
            provisioned.device.village_id, provisioned.device.village_id
        )
    return render_template(
        "ui/device_bundle.html",
        d=provisioned.device,
        village=village,
        bundle=bundle.toml(),
        qr=qr_data_uri(bundle.compact()),
        broker_url=bundle.mqtt_url,
    ), 201


@bp.post("/devices/<device_id>/edit")
@page("device.manage")
def edit(device_id: str) -> Response:
    """Rename the cluster and/or move it to another village."""
    me = user()
    form = request.form
    try:
        view = web_context().devices.update(
            device_id, name=form.get("name"), village_id=form.get("village"), actor=me.username
        )
    except ServiceError as exc:
        common.flash_error(exc)
    else:
        flash(f"Đã lưu cụm loa “{view.name}”. Lịch phát được xếp lại theo thôn/bản của cụm loa.", "info")
    return redirect(url_for("ui_devices.device", device_id=device_id))


@bp.post("/devices/<device_id>/revoke")
@page("device.manage")
def revoke(device_id: str) -> Response:
    """Revoke the cluster after the admin ticked the confirmation: the broker refuses it at once."""
    me = user()
    if request.form.get("confirm") != "yes":
        flash("Hãy đánh dấu ô xác nhận trước khi thu hồi cụm loa.", "error")
        return redirect(url_for("ui_devices.device", device_id=device_id))
    try:
        view = web_context().devices.revoke(device_id, actor=me.username)
    except ServiceError as exc:
        common.flash_error(exc)
        return redirect(url_for("ui_devices.device", device_id=device_id))
    flash(
        f"Đã thu hồi cụm loa “{view.name}”: máy chủ MQTT đã ngắt và từ chối thiết bị này. "
        "Muốn dùng lại phần cứng, hãy cấp thiết bị mới với mã khác.",
        "info",
    )
    return redirect(url_for("ui_devices.dashboard"))
