"""The device registry: provisioning edge agents, their MQTT credentials, and reading their health.

Owns device rows and their broker passwords; must not handle MQTT messages (ingest does) or talk to the
broker (controller.mqtt.broker takes the accounts this module lists).
"""

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from controller.db.models import Area, Device, Village
from controller.i18n import Message
from controller.mqtt.accounts import BrokerAccount, hash_password, new_password
from controller.services.audit import write_audit
from controller.services.errors import AreaRetired, Conflict, NotFound, ValidationFailed
from controller.services.onair import last_dead_air
from controller.services.places import check_slug
from controller.services.uptime import uptime_fractions
from controller.services.views import DeviceView, ProvisionedDevice

log = logging.getLogger(__name__)

UPTIME_PERIODS: Final = (timedelta(hours=24), timedelta(days=7))
MAX_SPEAKERS: Final = 64


def load_device(session: Session, device_id: str) -> Device:
    """The device row, or NotFound."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(
            Message(
                "The cluster {device} does not exist. Check its code in the list, or add it first.",
                device=str(device_id)[:80],
            )
        )
    return device


def _view(device: Device | Row[Any], fractions: tuple[float, ...]) -> DeviceView:
    return DeviceView(
        id=device.id,
        name=device.name,
        village_id=device.village_id,
        speakers=device.speakers,
        online=device.online,
        last_seen=device.last_seen,
        boot_id=device.boot_id,
        bdseq=device.bdseq,
        agent_version=device.agent_version,
        plan_version=device.plan_version,
        metrics=device.metrics,
        uptime_24h=fractions[0],
        uptime_7d=fractions[1],
        created_at=device.created_at,
        revoked_at=device.revoked_at,
    )


def provision_device(
    session: Session,
    device_id: str,
    now: datetime,
    *,
    name: str,
    village_id: str,
    speakers: int = 2,
    actor: str | None = None,
) -> ProvisionedDevice:
    """Register a device; the returned MQTT password is shown once and only its hash is kept."""
    check_slug(device_id, Message("The cluster code"))
    clean_name = _check_name(name)
    if isinstance(speakers, bool) or not isinstance(speakers, int) or not 1 <= speakers <= MAX_SPEAKERS:
        raise ValidationFailed(
            Message(
                "The number of loudspeakers must be a whole number from 1 to {limit}.", limit=MAX_SPEAKERS
            )
        )
    _village_for(session, village_id)
    if session.get(Device, device_id) is not None:
        raise Conflict(
            Message(
                "The cluster code {device} is taken. Choose another, or give that cluster a new password.",
                device=device_id,
            )
        )
    password = new_password()
    device = Device(
        id=device_id,
        name=clean_name,
        village_id=village_id,
        speakers=speakers,
        mqtt_password_hash=hash_password(password),
        online=False,
        created_at=now,
    )
    session.add(device)
    session.flush()
    write_audit(
        session,
        now,
        actor=actor,
        action="device.provision",
        entity="device",
        entity_id=device_id,
        detail={"name": clean_name, "village": village_id, "speakers": speakers},
    )
    log.info("device provisioned: %s in %s", device_id, village_id)
    return ProvisionedDevice(device=_view(device, (0.0, 0.0)), mqtt_password=password)


def _check_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > 200:
        raise ValidationFailed(f"Tên cụm loa “{name:.80}” phải dài 1–200 ký tự: hãy nhập lại tên.")
    return clean


def _active(session: Session, device_id: str) -> Device:
    """The device row, refusing one that was revoked (it can only be provisioned again under a new id)."""
    device = load_device(session, device_id)
    if device.revoked_at is not None:
        raise Conflict(
            f"Cụm loa {device_id} đã bị thu hồi lúc {device.revoked_at:%Y-%m-%d %H:%M} UTC: "
            "không sửa được nữa. Hãy cấp thiết bị mới với mã khác."
        )
    return device


def _village_for(session: Session, village_id: str) -> Village:
    """A village that can take a cluster: it exists and its area is not retired."""
    village = session.get(Village, village_id) if isinstance(village_id, str) else None
    if village is None:
        raise NotFound(f"Không có thôn/bản “{village_id!s:.80}”: hãy chọn một thôn/bản trong danh sách.")
    area = session.get(Area, village.area_code)
    if area is not None and area.retired:
        raise AreaRetired(f"Thôn/bản {village_id} đã ngừng hoạt động: chọn thôn/bản khác cho cụm loa này.")
    return village


def update_device(
    session: Session,
    device_id: str,
    now: datetime,
    *,
    name: str | None = None,
    village_id: str | None = None,
    actor: str | None = None,
) -> DeviceView:
    """Rename a device and/or move it to another village (its broker login does not change)."""
    device = _active(session, device_id)
    if name is None and village_id is None:
        raise ValidationFailed("Không có gì để sửa: hãy gửi tên mới (name) hoặc thôn/bản mới (village).")
    detail: dict[str, str] = {}
    if name is not None:
        clean = _check_name(name)
        if clean != device.name:
            detail |= {"name_before": device.name, "name": clean}
            device.name = clean
    if village_id is not None:
        village = _village_for(session, village_id)
        if village.id != device.village_id:
            detail |= {"village_before": device.village_id, "village": village.id}
            device.village_id = village.id
    if detail:
        write_audit(
            session, now, actor=actor, action="device.update", entity="device", entity_id=device_id,
            detail=detail,
        )  # fmt: skip
        log.info("device updated: %s %s", device_id, detail)
    session.flush()
    return get_device(session, device_id, now)


def revoke_device(session: Session, device_id: str, now: datetime, *, actor: str | None = None) -> DeviceView:
    """Revoke a device: it loses its broker login and its plans; its history stays."""
    device = _active(session, device_id)
    device.revoked_at = now
    device.online = False
    write_audit(session, now, actor=actor, action="device.revoke", entity="device", entity_id=device_id)
    log.warning("device revoked: %s", device_id)
    session.flush()
    return get_device(session, device_id, now)


def reset_device_password(
    session: Session, device_id: str, now: datetime, *, actor: str | None = None
) -> str:
    """Give a device a new MQTT password (returned once); the broker must be reloaded afterwards."""
    device = _active(session, device_id)
    password = new_password()
    device.mqtt_password_hash = hash_password(password)
    write_audit(
        session, now, actor=actor, action="device.reset_password", entity="device", entity_id=device_id
    )
    return password


def get_device(session: Session, device_id: str, now: datetime) -> DeviceView:
    """One device with liveness, metrics and uptime over the last 24 h and 7 d."""
    device = load_device(session, device_id)
    view = _view(device, uptime_fractions(session, [device_id], now, UPTIME_PERIODS)[device_id])
    return replace(view, dead_air_last=last_dead_air(session, device_id))


def list_devices(
    session: Session, now: datetime, *, village_id: str | None = None, commune_id: str | None = None
) -> list[DeviceView]:
    """Devices not revoked, by id, with liveness, metrics and uptime, optionally of one village or commune.

    Two queries whatever the number of devices: the rows (metrics are kept on them) and their coverage.
    """
    ids = select(Device.id).where(Device.revoked_at.is_(None))
    if village_id is not None:
        ids = ids.where(Device.village_id == village_id)
    if commune_id is not None:
        ids = ids.join(Village).where(Village.commune_id == commune_id)
    return device_views(session, now, ids)


def device_views(
    session: Session, now: datetime, ids: Select[str], *, offset: int = 0, limit: int | None = None
) -> list[DeviceView]:
    """The devices `ids` selects, by id (one page of them with `offset` and `limit`), in two queries."""
    # Plain rows, not ORM objects: read-only here, and cheaper to load for a province's 3,000 devices.
    query = select(*Device.__table__.columns).where(Device.id.in_(ids)).order_by(Device.id).offset(offset)
    devices = session.execute(query.limit(limit)).all()
    created = {d.id: d.created_at for d in devices}
    # A page's coverage is selected by its ids; a whole list's by the same query as the rows.
    among = ids if offset == 0 and limit is None else None
    fractions = uptime_fractions(session, list(created), now, UPTIME_PERIODS, created=created, among=among)
    return [_view(d, fractions[d.id]) for d in devices]


def device_villages(session: Session) -> dict[str, str]:
    """Device id → village id for every device not revoked, in id order (one query; no liveness or uptime)."""
    rows = session.execute(
        select(Device.id, Device.village_id).where(Device.revoked_at.is_(None)).order_by(Device.id)
    )
    return {device_id: village_id for device_id, village_id in rows}


def agent_versions(session: Session) -> dict[str, str | None]:
    """Device id → the agent version its last birth reported (None before its first), in one query."""
    rows = session.execute(select(Device.id, Device.agent_version))
    return {device_id: version for device_id, version in rows}


@dataclass(frozen=True)
class DeviceReach:
    """How a device can be reached: its area topics, and what it last told us (birth, heartbeat)."""

    areas: tuple[str, ...]  # the area codes whose topics it may read and listens to: its village's
    agent_version: str | None
    plan_version: int | None  # the plan version its last heartbeat said it holds


def device_reach(session: Session) -> dict[str, DeviceReach]:
    """Device id → its areas and reported versions, for every device (one query)."""
    rows = session.execute(
        select(Device.id, Village.area_code, Device.agent_version, Device.plan_version)
        .join(Village, Village.id == Device.village_id)
        .order_by(Device.id)
    )
    return {i: DeviceReach((area,), version, plan) for i, area, version, plan in rows}


def broker_accounts(session: Session) -> list[BrokerAccount]:
    """The MQTT account of every device not revoked, with the areas it may read (managed broker files)."""
    rows = session.execute(
        select(Device.id, Device.mqtt_password_hash, Village.area_code)
        .join(Village, Village.id == Device.village_id)
        .where(Device.revoked_at.is_(None))
        .order_by(Device.id)
    )
    return [BrokerAccount(username=i, password_hash=h, role="device", areas=(a,)) for i, h, a in rows]
