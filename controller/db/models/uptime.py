"""The uptime rollup: each village's mean cluster uptime over 24 h and 7 d, as of when it was computed.

A province's pages above a commune show uptime per commune; summing ~20,000 coverage spans on every
request is most of their time, so the scheduler leader recomputes these rows every minute
(controller.services.uptime_rollup) and the pages read them while they are fresh.
Owns the shape of the `village_uptime` table only; must not hold domain rules.
"""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.base import Base


class VillageUptime(Base):
    """One village's clusters at `computed_at`: how many, and their mean uptime over 24 h and 7 d."""

    __tablename__ = "village_uptime"

    village_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True
    )
    clusters: Mapped[int]
    uptime_24h: Mapped[float] = mapped_column(Float)
    uptime_7d: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime]
