"""The uptime rollup: each village's mean cluster uptime, recomputed by the leader, read above a commune.

Summing a province's ~20,000 coverage spans takes tens of milliseconds (most of the province's devices
page), while a mean uptime over 24 h or 7 d moves by well under a point a minute. So the leader's job
(`refresh_village_uptime`, every `REFRESH_EVERY`) stores the per-village means in `village_uptime`, and the
pages above a commune read them (`current_tallies`) while they are at most `FRESH_FOR` old, with the counts
of clusters and of those online read at request time. When the rows are missing or stale, or a village with
clusters has none (new since the last run), the spans are summed for the request as before.
Owns the `village_uptime` rows; must not commit or read the clock.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, case, delete, func, insert, select
from sqlalchemy.orm import Session

from controller.db.models import Device, VillageUptime
from controller.services.device_board import VillageTally, village_tallies

REFRESH_EVERY: Final = timedelta(minutes=1)
FRESH_FOR: Final = timedelta(minutes=5)  # a few missed runs of the job are still shown


@dataclass(frozen=True)
class Tallies:
    """Per village with clusters (in id order), and when its uptime figures were computed."""

    villages: list[VillageTally]
    uptime_at: datetime


def refresh_village_uptime(session: Session, now: datetime) -> int:
    """Recompute every village's rollup row as of `now` (the old rows go); how many villages it holds."""
    tallies = village_tallies(session, now)
    session.execute(delete(VillageUptime))
    if tallies:
        session.execute(
            insert(VillageUptime),
            [
                {"village_id": t.village_id, "clusters": t.total, "uptime_24h": t.uptime_24h,
                 "uptime_7d": t.uptime_7d, "computed_at": now}
                for t in tallies
            ],
        )  # fmt: skip
    return len(tallies)


def current_tallies(session: Session, now: datetime, *, fresh_for: timedelta = FRESH_FOR) -> Tallies:
    """Every village's clusters and those online now, with the rollup's uptime while it is fresh."""
    counts = (
        select(
            Device.village_id.label("village_id"),
            func.count().label("total"),
            func.sum(case((Device.online, 1), else_=0)).label("online"),
        )
        .where(Device.revoked_at.is_(None))  # a revoked cluster is history only, as on the dashboard
        .group_by(Device.village_id)
        .subquery()
    )
    fresh = and_(VillageUptime.computed_at > now - fresh_for, VillageUptime.computed_at <= now)
    # One row per village with clusters; its uptime is NULL when the rollup has no fresh row for it.
    rows = session.execute(
        select(
            counts.c.village_id,
            counts.c.total,
            counts.c.online,
            VillageUptime.uptime_24h,
            VillageUptime.uptime_7d,
        )
        .outerjoin(VillageUptime, and_(VillageUptime.village_id == counts.c.village_id, fresh))
        .order_by(counts.c.village_id)
    ).all()
    if any(day is None for _, _, _, day, _ in rows):
        return Tallies(village_tallies(session, now), now)
    # One run writes every row at once: the times are the same, and read once instead of per village.
    uptime_at = session.scalar(select(func.min(VillageUptime.computed_at)).where(fresh)) or now
    return Tallies(
        [
            VillageTally(village, int(total), int(online), float(day), float(week))
            for village, total, online, day, week in rows
        ],
        uptime_at,
    )
