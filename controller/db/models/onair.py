"""What a device aired besides its plays (issue 13): the gaps of a relay or live play, and dead air.

Owns the `play_gaps` and `dead_air` tables; the ingest fills them from the agents' `gap` and `dead_air`
events. Must not hold domain rules.
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.base import Base, check_in

DEAD_AIR_KINDS: tuple[str, ...] = ("silent", "broken")


class PlayGap(Base):
    """A stretch of a relay or live play when its stream did not air (filler may have), and why."""

    __tablename__ = "play_gaps"
    __table_args__ = (UniqueConstraint("device_id", "seq"), Index(None, "device_id", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    play_id: Mapped[int | None] = mapped_column(ForeignKey("plays.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    item_id: Mapped[str | None] = mapped_column(String(128))
    session: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(2048))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(256))


class DeadAir(Base):
    """A span of dead air a device reported (silent or broken for longer than its limit).

    An agent reports a span when it crosses the limit and again when it ends, with the same start: the
    row is keyed by (device, started_at) and its end moves on.
    """

    __tablename__ = "dead_air"
    __table_args__ = (
        UniqueConstraint("device_id", "started_at"),
        CheckConstraint(check_in("kind", DEAD_AIR_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    item_id: Mapped[str | None] = mapped_column(String(128))
    session: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(8))
    ongoing: Mapped[bool]
    seq: Mapped[int] = mapped_column(BigInteger)
