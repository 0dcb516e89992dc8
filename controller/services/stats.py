"""Statistics up (DESIGN §11): per area and period, what played, how available each cluster was, outages.

For the clusters under an area over [start, end):
- plays and airtime per bulletin and local day (finished plays; airtime = finished − started);
- each cluster's share of broadcast-window time covered by its heartbeats (`uptime.window_uptime`);
- outages: gaps in a cluster's heartbeat coverage, with start, end and cause — `restart` when the agent
  came back with another boot id (power cut or crash; read from the boot ids of its events, so a restart
  after which it reported nothing reads as `network`), `network` when the same agent came back (the link
  was down), `ongoing` when it has not come back;
- one row per commune under the area with the same sums, so that a district's figures are the sum of its
  communes' and a province's the sum of its districts'.
Owns these reads; must not write anything or read the clock (`now` is an argument).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Commune, Device, DeviceCoverage, DeviceEvent, Play, Village
from controller.services.errors import ValidationFailed
from controller.services.scope import Scope
from controller.services.uptime import window_uptime

MAX_PERIOD: Final = timedelta(days=92)
MAX_OUTAGES: Final = 5000
# A gap shorter than this is a late heartbeat, not an outage.
MIN_OUTAGE: Final = timedelta(minutes=2)
# How far before the period boots are read (a boot seen before the period's first gap), and how long after
# a gap an agent's first event may arrive (it reports once it has a plan and plays).
BOOT_LOOKBACK: Final = timedelta(days=7)
REPORT_SLACK: Final = timedelta(minutes=30)


@dataclass(frozen=True)
class ItemDay:
    """One bulletin on one local day: how many plays and how many seconds on air, over all clusters."""

    bulletin_id: int | None
    title: str
    day: date
    plays: int
    airtime_s: int


@dataclass(frozen=True)
class ClusterAvailability:
    """One cluster's share of window time with heartbeats (None: no window time yet)."""

    device_id: str
    commune_id: str
    village_id: str
    availability: float | None


@dataclass(frozen=True)
class Outage:
    """A stretch without heartbeats on one cluster; `end` None while it lasts."""

    device_id: str
    commune_id: str
    start: datetime
    end: datetime | None
    cause: str


@dataclass(frozen=True)
class CommuneTotals:
    """A commune's sums over the period."""

    commune_id: str
    name: str
    clusters: int
    plays: int
    airtime_s: int
    availability: float | None  # mean of its clusters'
    outages: int
    bulletins: int = 0  # distinct bulletins played


@dataclass(frozen=True)
class AreaStats:
    """The statistics of an area over [start, end)."""

    area: str | None
    start: datetime
    end: datetime
    items: tuple[ItemDay, ...]
    clusters: tuple[ClusterAvailability, ...]
    outages: tuple[Outage, ...]
    communes: tuple[CommuneTotals, ...]

    @property
    def plays(self) -> int:
        """Plays over every item and day."""
        return sum(i.plays for i in self.items)

    @property
    def airtime_s(self) -> int:
        """Seconds on air over every item and day."""
        return sum(i.airtime_s for i in self.items)


def check_period(start: datetime, end: datetime) -> None:
    """Refuse an empty, reversed or too long period."""
    if end <= start:
        raise ValidationFailed(
            f"Khoảng thời gian không hợp lệ: 'to' ({end.isoformat()}) phải sau 'from' ({start.isoformat()})."
        )
    if end - start > MAX_PERIOD:
        raise ValidationFailed(
            f"Khoảng thời gian dài quá {MAX_PERIOD.days} ngày: chọn từng tháng hoặc từng quý."
        )


def area_stats(
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    windows: Sequence[tuple[datetime, datetime]],
    zone: ZoneInfo,
) -> AreaStats:
    """The statistics of the clusters under `scope` over [start, end); `windows` are the window spans."""
    check_period(start, end)
    query = select(Device.id, Device.village_id, Village.commune_id).join(
        Village, Village.id == Device.village_id
    )
    if scope.communes is not None:
        query = query.where(Village.commune_id.in_(sorted(scope.communes)))
    devices = {d: (v, c) for d, v, c in session.execute(query.order_by(Device.id))}
    ids = list(devices)
    items, per_commune = _plays(session, devices, (start, end), zone)
    shares = window_uptime(session, ids, windows, now)
    clusters = tuple(ClusterAvailability(d, devices[d][1], devices[d][0], shares.get(d)) for d in ids)
    outages = _outages(session, ids, devices, start, min(end, now))
    communes = sorted({c for _, c in devices.values()} | set(scope.communes or ()))
    names = _pairs(session.execute(select(Commune.id, Commune.name).where(Commune.id.in_(communes))))
    totals = []
    for commune_id in communes:
        mine = [c for c in clusters if c.commune_id == commune_id]
        known = [c.availability for c in mine if c.availability is not None]
        plays, airtime, played = per_commune.get(commune_id, (0, 0, 0))
        totals.append(
            CommuneTotals(
                commune_id, names.get(commune_id, commune_id), len(mine), plays, airtime,
                sum(known) / len(known) if known else None,
                sum(1 for o in outages if o.commune_id == commune_id), played,
            )
        )  # fmt: skip
    return AreaStats(scope.area, start, end, items, clusters, outages, tuple(totals))


def _plays(
    session: Session, devices: dict[str, tuple[str, str]], period: tuple[datetime, datetime], zone: ZoneInfo
) -> tuple[tuple[ItemDay, ...], dict[str, tuple[int, int, int]]]:
    """Finished plays per (bulletin, local day), and per commune: (plays, seconds on air, bulletins)."""
    start, end = period
    rows = session.execute(
        select(Play.device_id, Play.bulletin_id, Play.started_at, Play.finished_at).where(
            Play.device_id.in_(list(devices)),
            Play.status == "finished",
            Play.started_at >= start,
            Play.started_at < end,
        )
    ).all()
    sums: dict[tuple[int | None, date], list[int]] = defaultdict(lambda: [0, 0])
    communes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    played: dict[str, set[int]] = defaultdict(set)
    for device_id, bulletin_id, started, finished in rows:
        if started is None:
            continue  # the query asks for a start in the period; this keeps the types honest
        seconds = round((finished - started).total_seconds()) if finished else 0
        cell = sums[(bulletin_id, started.astimezone(zone).date())]
        cell[0], cell[1] = cell[0] + 1, cell[1] + seconds
        commune = communes[devices[device_id][1]]
        commune[0], commune[1] = commune[0] + 1, commune[1] + seconds
        if bulletin_id is not None:
            played[devices[device_id][1]].add(bulletin_id)
    bulletin_ids = {b for b, _ in sums if b is not None}
    titles = _pairs(session.execute(select(Bulletin.id, Bulletin.title).where(Bulletin.id.in_(bulletin_ids))))
    items = tuple(
        ItemDay(b, titles.get(b, "") if b is not None else "", day, n, s)
        for (b, day), (n, s) in sorted(sums.items(), key=lambda kv: (kv[0][1], kv[0][0] or 0))
    )
    return items, {c: (n, s, len(played[c])) for c, (n, s) in communes.items()}


def _outages(
    session: Session, ids: list[str], devices: dict[str, tuple[str, str]], start: datetime, end: datetime
) -> tuple[Outage, ...]:
    """Gaps of at least MIN_OUTAGE in each cluster's coverage within [start, end], with their cause."""
    if end <= start:
        return ()
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    rows = session.execute(
        select(DeviceCoverage.device_id, DeviceCoverage.start_at, DeviceCoverage.end_at)
        .where(
            DeviceCoverage.device_id.in_(ids), DeviceCoverage.end_at > start, DeviceCoverage.start_at < end
        )
        .order_by(DeviceCoverage.device_id, DeviceCoverage.start_at)
    )
    for device_id, lo, hi in rows:
        spans[device_id].append((lo, hi))
    boots = _boots(session, list(spans), start)
    out: list[Outage] = []
    for device_id in ids:
        mine = spans.get(device_id)
        if not mine:
            continue  # never heard from in the period: its availability says so, not an outage list
        for (_, gap_start), (gap_end, _) in pairwise(mine):
            if gap_end - gap_start >= MIN_OUTAGE and len(out) < MAX_OUTAGES:
                cause = _cause(boots.get(device_id, []), gap_start, gap_end)
                out.append(Outage(device_id, devices[device_id][1], gap_start, gap_end, cause))
        last_end = mine[-1][1]
        if end - last_end >= MIN_OUTAGE and len(out) < MAX_OUTAGES:
            out.append(Outage(device_id, devices[device_id][1], last_end, None, "ongoing"))
    return tuple(sorted(out, key=lambda o: (o.start, o.device_id)))


def _boots(session: Session, ids: list[str], since: datetime) -> dict[str, list[datetime]]:
    """Per device, when each of its boots was first heard of (one grouped query for all devices)."""
    rows = session.execute(
        select(DeviceEvent.device_id, func.min(DeviceEvent.at))
        .where(DeviceEvent.device_id.in_(ids), DeviceEvent.at >= since - BOOT_LOOKBACK)
        .group_by(DeviceEvent.device_id, DeviceEvent.boot_id)
    )
    out: dict[str, list[datetime]] = defaultdict(list)
    for device_id, first in rows:
        out[device_id].append(first)
    return out


def _cause(boots: list[datetime], gap_start: datetime, gap_end: datetime) -> str:
    """`restart` when a new boot was first heard of during the gap or just after; else `network`.

    The device's first boot ever is no restart. Without a new boot the same agent came back: the link was
    down.
    """
    firsts = sorted(boots)
    new_boot = any(gap_start < first <= gap_end + REPORT_SLACK for first in firsts[1:])
    return "restart" if new_boot else "network"


def _pairs(rows: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """A dict of two-column rows (a Result has keys(), so dict() would read it as a mapping)."""
    return {key: value for key, value in rows}
