"""Tables for CAP alert sources, the alerts they sent, and drills (DESIGN §12).

Owns the shape of these tables only; the rules live in controller.services.cap_sources and
controller.services.drills.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.base import Base


class CapSource(Base):
    """Where CAP alerts come from: a URL loaxa polls, or a push endpoint, with its checks and policy.

    `certificate` (PEM) set: every alert must carry an XML signature that verifies against it.
    `counters` holds accepted/refused counts by reason; `last_errors` the newest refusals.
    """

    __tablename__ = "cap_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str | None] = mapped_column(String(2000))
    senders: Mapped[list[str]]
    certificate: Mapped[str | None] = mapped_column(Text)
    policy: Mapped[dict[str, Any]]
    push_token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    counters: Mapped[dict[str, Any]]
    last_errors: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    last_polled_at: Mapped[datetime | None]


class CapAlert(Base):
    """A CAP alert taken in, once per (sender, identifier), and the bulletin or drill it became."""

    __tablename__ = "cap_alerts"
    __table_args__ = (UniqueConstraint("sender", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("cap_sources.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(255))
    identifier: Mapped[str] = mapped_column(String(255))
    sent: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    msg_type: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None]
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletins.id", ondelete="SET NULL"))
    received_at: Mapped[datetime]


class Drill(Base):
    """A test of the alerting chain: a short announced test bulletin, and who acknowledged it.

    `volume` (0–100) is what every cluster plays the drill at; None (drills older than it): each
    cluster's own.
    """

    __tablename__ = "drills"

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"), index=True)
    origin: Mapped[str] = mapped_column(String(16))
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    volume: Mapped[int | None]
