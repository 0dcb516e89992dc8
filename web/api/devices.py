"""`/api/v1/devices`: the device registry, provisioning, renaming, moving, revoking, and one-off commands.

Owns the HTTP side of devices and role checks; the registry, passwords and uptime are
controller.services.devices, and commands reach the broker only through the runtime's `send_command`.
"""

from apiflask import APIBlueprint

from controller import services
from controller.i18n import Message
from web.api.errors import ApiError
from web.api.schemas import (
    AcceptedOut,
    CommandIn,
    CredentialsOut,
    DeviceIn,
    DeviceList,
    DeviceOut,
    DevicePatch,
    ProvisionedOut,
)
from web.api.security import permit, token_auth
from web.api.serialize import device_out
from web.context import web_context

bp = APIBlueprint("devices", __name__, tag="devices")


@bp.get("/devices")
@bp.auth_required(token_auth)
@bp.output(DeviceList)
@bp.doc(summary="List devices with liveness and 24 h uptime")
def list_all() -> DeviceList:
    """Every device, by id."""
    permit("device.read")
    context = web_context()
    with context.db.session() as session:
        views = services.list_devices(session, context.clock())
    return DeviceList(items=[device_out(view) for view in views])


@bp.get("/devices/<device_id>")
@bp.auth_required(token_auth)
@bp.output(DeviceOut)
@bp.doc(summary="One device with metrics and 7-day uptime", responses={404: "No such device"})
def get_one(device_id: str) -> DeviceOut:
    """A device with its latest heartbeat metrics."""
    permit("device.read")
    context = web_context()
    with context.db.session() as session:
        view = services.get_device(session, device_id, context.clock())
    return device_out(view, detail=True)


@bp.post("/devices")
@bp.auth_required(token_auth)
@bp.input(DeviceIn, arg_name="body")
@bp.output(ProvisionedOut, status_code=201)
@bp.doc(
    summary="Provision a device (admin); the response holds its MQTT password, shown once",
    responses={409: "Id taken"},
)
def provision(body: DeviceIn) -> ProvisionedOut:
    """Register a device and return its MQTT credentials; only a hash of the password is kept."""
    user = permit("device.manage")
    context = web_context()
    provisioned = context.devices.provision(
        device_id=body.id,
        name=body.name,
        village_id=body.village,
        speakers=body.speakers,
        actor=user.username,
    )
    settings = context.settings.mqtt
    return ProvisionedOut(
        device=device_out(provisioned.device, detail=True),
        credentials=CredentialsOut(
            username=provisioned.device.id,
            password=provisioned.mqtt_password,
            broker_url=settings.public_url or settings.url,
            public_keys=list(context.signing_public_keys),
        ),
    )


@bp.patch("/devices/<device_id>")
@bp.auth_required(token_auth)
@bp.input(DevicePatch, arg_name="body")
@bp.output(DeviceOut)
@bp.doc(
    summary="Rename a device and/or move it to another village (admin)",
    responses={404: "No such device or village", 409: "The device was revoked", 422: "Nothing to change"},
)
def update(device_id: str, body: DevicePatch) -> DeviceOut:
    """Change a device's name or village; its plans follow the new village's windows."""
    user = permit("device.manage")
    view = web_context().devices.update(
        device_id, name=body.name, village_id=body.village, actor=user.username
    )
    return device_out(view, detail=True)


@bp.post("/devices/<device_id>/revoke")
@bp.auth_required(token_auth)
@bp.output(DeviceOut)
@bp.doc(
    summary="Revoke a device (admin): the broker refuses its login at once and it gets no more plans",
    responses={404: "No such device", 409: "Already revoked"},
)
def revoke(device_id: str) -> DeviceOut:
    """Revoke a device's credentials; its as-run history stays."""
    user = permit("device.manage")
    return device_out(web_context().devices.revoke(device_id, actor=user.username), detail=True)


@bp.post("/devices/<device_id>/cmd")
@bp.auth_required(token_auth)
@bp.input(CommandIn, arg_name="body")
@bp.output(AcceptedOut, status_code=202)
@bp.doc(
    summary="Send a command: stop, set_volume, test_tone, resync (admin)",
    responses={404: "No such device", 503: "The broker did not take the command"},
)
def command(device_id: str, body: CommandIn) -> AcceptedOut:
    """Hand a signed command to the broker for the device (delivered when it is connected)."""
    permit("device.manage")
    context = web_context()
    with context.db.session() as session:
        view = services.get_device(session, device_id, context.clock())
    try:
        context.send_command(view.id, body.model_dump(exclude_none=True))
    except ConnectionError as exc:
        raise ApiError(
            503,
            Message(
                "The command could not be sent to {device}: the message server (MQTT) is not "
                "ready. Try again in a few minutes.",
                device=view.name,
            ),
            "broker_unavailable",
        ) from exc
    return AcceptedOut(device=view.id, command=body.command)
