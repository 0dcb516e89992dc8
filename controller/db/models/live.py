"""The live sessions table (issue 13, item 3): who spoke live, to whom, when, why it ended, its recording.

Owns the shape of the table only; the rules (one session per commune, ending) are controller.usecases.live's.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.base import Base

LIVE_STATES = ("pending", "waiting", "on_air", "ended")


class LiveSession(Base):
    """One live broadcast: a user speaking from a phone or the studio to chosen villages or clusters."""

    __tablename__ = "live_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    commune_id: Mapped[str | None] = mapped_column(ForeignKey("communes.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    targets: Mapped[dict[str, Any]]
    devices: Mapped[list[str]]
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending (two-person), waiting, on_air, ended
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))  # ended, source_gone, silent, no_chunks, ...
    recording_sha256: Mapped[str | None] = mapped_column(String(64))
