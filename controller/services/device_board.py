"""What the devices dashboard shows of a province, read in SQL: tallies per village, alerts, one page.

A province has 3,000 clusters and ~20,000 coverage spans, and the dashboard shows 24 cards. So the totals
and the per-village summary are summed by the database (each device's covered seconds over 24 h and 7 d,
then per village), alerts select only the devices that have one, and the cards are one page by id; only
those devices are read as views with their uptime (`devices.device_views`). Spans of one device never
overlap (ingest extends the newest or opens one after it), so summing clipped spans is their union.
Owns these reads; must not write anything.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Float

from controller.db.models import Device, DeviceCoverage, Village
from controller.db.types import UTCDateTime
from controller.services.devices import UPTIME_PERIODS, device_views
from controller.services.views import DeviceView


@dataclass(frozen=True)
class VillageTally:
    """A village's clusters: how many, how many online, and their mean uptime over 24 h and 7 d."""

    village_id: str
    total: int
    online: int
    uptime_24h: float
    uptime_7d: float


def village_tallies(session: Session, now: datetime, *, commune_id: str | None = None) -> list[VillageTally]:
    """Per village with clusters (in id order): counts and mean uptime, in one query.

    Each device's uptime is judged, as in `uptime_fractions`, on the part of the period since it was
    provisioned; the sums run in the database (to about a millisecond per span on SQLite).
    """
    # Times become seconds once per span and per device; the clipping is then arithmetic.
    now_s = _seconds(_at(now))
    spans = (
        select(
            DeviceCoverage.device_id,
            _seconds(DeviceCoverage.start_at).label("start"),
            _seconds(DeviceCoverage.end_at).label("end"),
        )
        .where(
            DeviceCoverage.end_at > _at(now - max(UPTIME_PERIODS)),
            DeviceCoverage.start_at < _at(now),
        )
        .subquery()
    )
    devices = (
        select(Device.id, Device.village_id, Device.online, _seconds(Device.created_at).label("created"))
        .where(Device.id.in_(_visible(commune_id=commune_id)))
        .subquery()
    )
    fractions = []
    for period in UPTIME_PERIODS:
        lower = _greatest(devices.c.created, now_s - period.total_seconds())
        clipped = _least(spans.c.end, now_s) - _greatest(spans.c.start, lower)
        # A device without spans joins one row of NULLs, which PostgreSQL's greatest() would skip.
        counted = and_(spans.c.start.is_not(None), clipped > 0)
        covered = func.coalesce(func.sum(case((counted, clipped), else_=0.0)), 0.0)
        lived = now_s - lower
        fractions.append(case((lived > 0, covered / lived), else_=0.0))
    per_device = (
        select(devices.c.village_id, devices.c.online, fractions[0].label("day"), fractions[1].label("week"))
        .outerjoin(spans, spans.c.device_id == devices.c.id)
        .group_by(devices.c.id, devices.c.village_id, devices.c.online, devices.c.created)
        .subquery()
    )
    rows = session.execute(
        select(
            per_device.c.village_id,
            func.count(),
            func.sum(case((per_device.c.online, 1), else_=0)),
            func.avg(per_device.c.day),
            func.avg(per_device.c.week),
        )
        .group_by(per_device.c.village_id)
        .order_by(per_device.c.village_id)
    )
    return [
        VillageTally(village, int(total), int(online), float(day), float(week))
        for village, total, online, day, week in rows
    ]


@dataclass(frozen=True)
class AlertCandidate:
    """A device that may need an alert: what the alert says about it, without its uptime."""

    id: str
    name: str
    online: bool
    last_seen: datetime | None
    assets_missing: int


def alert_candidates(
    session: Session,
    now: datetime,
    offline_for: timedelta,
    *,
    commune_id: str | None = None,
    village_id: str | None = None,
    online: bool | None = None,
) -> list[AlertCandidate]:
    """Devices (by id) offline for longer than `offline_for` or never heard from, or missing audio."""
    offline = and_(
        Device.online.is_(False), or_(Device.last_seen.is_(None), Device.last_seen < _at(now - offline_for))
    )
    missing = Device.metrics["assets_missing"].as_integer()
    ids = _visible(commune_id=commune_id, village_id=village_id, online=online)
    rows = session.execute(
        select(Device.id, Device.name, Device.online, Device.last_seen, missing)
        .where(Device.id.in_(ids), or_(offline, missing != 0))
        .order_by(Device.id)
    )
    return [
        AlertCandidate(id=i, name=n, online=o, last_seen=seen, assets_missing=int(missing or 0))
        for i, n, o, seen, missing in rows
    ]


def devices_by_id(session: Session, now: datetime, device_ids: list[str]) -> list[DeviceView]:
    """These devices (a page of them: the list goes into the SQL), by id, with their uptime."""
    return device_views(session, now, select(Device.id).where(Device.id.in_(device_ids)))


def device_page(
    session: Session,
    now: datetime,
    *,
    commune_id: str | None = None,
    village_id: str | None = None,
    online: bool | None = None,
    offset: int = 0,
    limit: int,
) -> list[DeviceView]:
    """One page of devices by id, with their uptime."""
    ids = _visible(commune_id=commune_id, village_id=village_id, online=online)
    return device_views(session, now, ids, offset=offset, limit=limit)


def _visible(
    *, commune_id: str | None = None, village_id: str | None = None, online: bool | None = None
) -> Select[str]:
    ids = select(Device.id).where(Device.revoked_at.is_(None))  # a revoked cluster is history only
    if commune_id is not None:
        ids = ids.join(Village).where(Village.commune_id == commune_id)
    if village_id is not None:
        ids = ids.where(Device.village_id == village_id)
    if online is not None:
        ids = ids.where(Device.online.is_(online))
    return ids


def _at(moment: datetime) -> ColumnElement[datetime]:
    """A time as a bound parameter stored the way the columns are (text on SQLite)."""
    return literal(moment, UTCDateTime())


class _greatest(FunctionElement[Any]):
    inherit_cache = True


class _least(FunctionElement[Any]):
    inherit_cache = True


class _seconds(FunctionElement[float]):
    """A time as seconds on a scale of the backend's choosing: only differences mean anything."""

    type = Float()
    inherit_cache = True


@compiles(_greatest)
def _greatest_sql(element: _greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"greatest({compiler.process(element.clauses, **kw)})"


@compiles(_greatest, "sqlite")
def _greatest_sqlite(element: _greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(_least)
def _least_sql(element: _least, compiler: SQLCompiler, **kw: Any) -> str:
    return f"least({compiler.process(element.clauses, **kw)})"


@compiles(_least, "sqlite")
def _least_sqlite(element: _least, compiler: SQLCompiler, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(_seconds)
def _seconds_sql(element: _seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"extract(epoch from {compiler.process(element.clauses, **kw)})"


@compiles(_seconds, "sqlite")
def _seconds_sqlite(element: _seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(julianday({compiler.process(element.clauses, **kw)}) * 86400.0)"
