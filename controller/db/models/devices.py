"""Tables for edge agents: the device registry, heartbeat coverage, ingested event numbers and plans.

Owns the shape of these tables only; liveness and uptime rules live in controller.services.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.base import Base


class Device(Base):
    """One edge agent at a loudspeaker cluster; its id is also its MQTT username and client id."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    village_id: Mapped[str] = mapped_column(ForeignKey("villages.id"), index=True)
    speakers: Mapped[int]
    mqtt_password_hash: Mapped[str] = mapped_column(String(255))
    online: Mapped[bool] = mapped_column(default=False)
    last_seen: Mapped[datetime | None]
    boot_id: Mapped[str | None] = mapped_column(String(64))
    bdseq: Mapped[int | None] = mapped_column(BigInteger)
    metrics: Mapped[dict[str, Any] | None]
    plan_version: Mapped[int | None]
    agent_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # Set once an admin revokes the device: it may no longer log in to the broker nor receive plans; the
    # row stays for the as-run log and the uptime history.
    revoked_at: Mapped[datetime | None]


class DeviceCoverage(Base):
    """A span of time covered by a device's heartbeats, without a gap.

    Each heartbeat received at t covers [t, t + 2.5 × interval]; a heartbeat inside the latest span extends
    it, one after it opens a new span. A healthy device therefore has one row that grows, and a device
    adds one row per outage: uptime over any period is a sum over a handful of rows.
    """

    __tablename__ = "device_coverage"
    __table_args__ = (Index(None, "device_id", "end_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]


class DeviceEvent(Base):
    """An event ingested from a device's outbox, keyed by (device, seq) so a re-sent event counts once."""

    __tablename__ = "device_events"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    received_at: Mapped[datetime]
    boot_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str | None] = mapped_column(String(128))
    bulletin_id: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(String(64))


class Plan(Base):
    """The current plan of one device: version and body as published (retained) on MQTT."""

    __tablename__ = "plans"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int]
    body: Mapped[dict[str, Any]]
    generated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
