"""Tables for bulletins, their audio versions, audio assets, per-device deliveries and the as-run log.

Owns the shape of these tables only; the bulletin state machine lives in controller.services.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.base import Base, check_in
from protocol.plan import PRIORITIES

BULLETIN_STATUSES: tuple[str, ...] = (
    "draft",
    "pending",
    "approved",
    "rejected",
    "done",
    "cancelled",
    "expired",
)
AUDIO_KINDS: tuple[str, ...] = ("tts", "recorded")
DELIVERY_STATES: tuple[str, ...] = ("planned", "delivered", "played", "skipped", "failed")
PLAY_STATUSES: tuple[str, ...] = ("playing", "finished", "interrupted", "failed")
PLAY_SOURCES: tuple[str, ...] = ("file", "relay", "live")


class Bulletin(Base):
    """A message to broadcast, with its targets, schedule and approval trail."""

    __tablename__ = "bulletins"
    __table_args__ = (
        CheckConstraint(check_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(check_in("status", BULLETIN_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[str | None] = mapped_column(ForeignKey("communes.id"))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    targets: Mapped[dict[str, Any]]
    schedule: Mapped[dict[str, Any]]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    # A programme source other than speech or a recording (DESIGN §8), e.g.
    # {"kind": "relay", "station": 3, "duration_s": 1800}; None for a spoken or recorded bulletin.
    source: Mapped[dict[str, Any] | None]


class Asset(Base):
    """An audio file in the content-addressed store, and how it was made."""

    __tablename__ = "assets"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int]
    mime: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str | None] = mapped_column(String(32))
    voice: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(16))
    normalized_text: Mapped[str | None] = mapped_column(Text)
    cache_key: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime]


class BulletinAudio(Base):
    """One language version of a bulletin: Vietnamese speech, or a recording in a village language."""

    __tablename__ = "bulletin_audio"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "language"),
        CheckConstraint(check_in("kind", AUDIO_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    asset_sha256: Mapped[str] = mapped_column(ForeignKey("assets.sha256"), index=True)
    position: Mapped[int]


class Delivery(Base):
    """Where one bulletin stands on one device: planned, delivered, played, skipped or failed."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "device_id"),
        Index(None, "device_id", "item_id"),
        CheckConstraint(check_in("state", DELIVERY_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str | None] = mapped_column(String(128))
    planned_start: Mapped[datetime | None]
    played_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(256))
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class Play(Base):
    """The as-run log: one row per time an item started (or ended) playing on a device.

    (device, seq) is unique, seq being the event that opened the row, so a re-sent event is counted once.
    """

    __tablename__ = "plays"
    __table_args__ = (
        UniqueConstraint("device_id", "seq"),
        Index(None, "device_id", "item_id"),
        CheckConstraint(check_in("status", PLAY_STATUSES), name="status"),
        CheckConstraint(check_in("source", PLAY_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    bulletin_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulletins.id", ondelete="SET NULL"), index=True
    )
    item_id: Mapped[str | None] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(BigInteger)
    end_seq: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(256))
    # What aired (issue 13): a file, a relay (from `url`, the stream it started on) or a live `session`.
    source: Mapped[str] = mapped_column(String(8), server_default="file")
    url: Mapped[str | None] = mapped_column(String(2048))
    session: Mapped[str | None] = mapped_column(String(64))
