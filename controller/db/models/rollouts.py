"""The rollouts table: over-the-air updates of loaxa-agent across the fleet, wave after wave.

Owns the shape of the table only; rows are written by controller.services.rollouts, the wave logic is
controller.rollout.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.base import Base, check_in

ROLLOUT_STATES = ("running", "done", "failed", "cancelled")


class Rollout(Base):
    """One update to `version` (the .deb with `sha256` in the controller's apt repository)."""

    __tablename__ = "rollouts"
    __table_args__ = (CheckConstraint(check_in("state", ROLLOUT_STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    waves: Mapped[list[list[str]]] = mapped_column(JSON)  # device ids per wave, canary first
    wave: Mapped[int]  # index of the wave being updated
    wave_started_at: Mapped[datetime]
    deadline_s: Mapped[int]  # how long one wave may take to come up healthy
    state: Mapped[str] = mapped_column(String(16), index=True)
    outcomes: Mapped[dict[str, Any]]  # device id → waiting | sent | updated | healthy | failed | cancelled
    started_by: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
