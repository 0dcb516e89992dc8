"""What a province's or a district's staff see first: one row per commune instead of one per cluster.

3,000 clusters in ~170 communes do not fit on a page, so above a commune the devices and schedule pages
show each commune under its district with counts (clusters, online, mean uptime), and the staff open one
commune to see its clusters. Built on `uptime_rollup.current_tallies`: the counts read now, the uptime from
the leader's per-village rollup while it is fresh (else summed from the spans, one SQL query).
Owns these reads; must not write anything.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Area, Commune, Device, Village
from controller.services.scope import Scope
from controller.services.uptime_rollup import current_tallies


@dataclass(frozen=True)
class CommuneRow:
    """One commune's clusters: how many, how many online, mean uptime over 24 h and 7 d."""

    commune_id: str
    name: str
    district: str  # the district's name, or "" for a commune standing alone
    total: int
    online: int
    uptime_24h: float
    uptime_7d: float


@dataclass(frozen=True)
class CommuneBoard:
    """The communes' rows, and when their uptime figures were computed (at most a few minutes ago)."""

    rows: list[CommuneRow]
    uptime_at: datetime


def commune_board(session: Session, now: datetime, scope: Scope) -> CommuneBoard:
    """Per commune under `scope` (with its clusters or not), by district then commune name."""
    current = current_tallies(session, now)
    tallies = current.villages
    commune_of = {v: c for v, c in session.execute(select(Village.id, Village.commune_id))}
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for tally in tallies:
        commune = commune_of.get(tally.village_id)
        if commune is None or not scope.covers(commune):
            continue
        cell = sums[commune]
        cell[0] += tally.total
        cell[1] += tally.online
        cell[2] += tally.uptime_24h * tally.total
        cell[3] += tally.uptime_7d * tally.total
    parent = Area.__table__.alias("parent")
    query = (
        select(Commune.id, Commune.name, parent.c.name)
        .join(Area, Area.code == Commune.area_code)
        .outerjoin(parent, parent.c.code == Area.parent_code)
    )
    rows = []
    for commune_id, name, district in session.execute(query):
        if not scope.covers(commune_id):
            continue
        total, online, up24, up7 = sums.get(commune_id, [0, 0, 0.0, 0.0])
        rows.append(
            CommuneRow(
                commune_id, name, district or "", int(total), int(online),
                up24 / total if total else 0.0, up7 / total if total else 0.0,
            )
        )  # fmt: skip
    return CommuneBoard(sorted(rows, key=lambda r: (r.district, r.name, r.commune_id)), current.uptime_at)


def commune_names_by_device(session: Session, scope: Scope) -> dict[str, str]:
    """Device id → the name of its commune, for the devices under `scope` (one query)."""
    query = (
        select(Device.id, Commune.id, Commune.name)
        .join(Village, Village.id == Device.village_id)
        .join(Commune, Commune.id == Village.commune_id)
    )
    return {d: name for d, commune, name in session.execute(query) if scope.covers(commune)}
