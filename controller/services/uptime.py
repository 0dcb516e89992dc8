"""Heartbeat coverage and what it says about uptime (DESIGN §5: a heartbeat covers [t, t + 2.5 × interval]).

A device's coverage is a few rows of [start, end] spans: a heartbeat inside the newest span extends it,
one after it opens a new span, so a healthy device has one growing row and each outage adds one row.
That keeps 3,000 devices × 2 heartbeats a minute at one small UPDATE each, and uptime over 24 h or 7 d a
sum over a handful of rows. Owns device_coverage; must not change device status (ingest does).
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from controller.db.models import Device, DeviceCoverage
from controller.i18n import Message
from controller.services.errors import NotFound, ValidationFailed
from controller.services.views import Gap, UptimeReport, UptimeSlot, UptimeSlots

log = logging.getLogger(__name__)

COVERAGE_FACTOR: Final = 2.5
DEFAULT_INTERVAL: Final = timedelta(seconds=30)


def cut_coverage(session: Session, device_id: str, at: datetime) -> None:
    """End the device's current span at `at` (its link is known to be gone, e.g. its will arrived)."""
    latest = session.scalar(
        select(DeviceCoverage)
        .where(DeviceCoverage.device_id == device_id, DeviceCoverage.end_at > at)
        .order_by(DeviceCoverage.end_at.desc())
        .limit(1)
    )
    if latest is not None:
        latest.end_at = max(latest.start_at, at)


def _merge(
    spans: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Clip spans to [start, end] and merge overlaps, in time order."""
    merged: list[tuple[datetime, datetime]] = []
    for span_start, span_end in sorted(spans):
        lo, hi = max(span_start, start), min(span_end, end)
        if hi <= lo:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _fraction(spans: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> float:
    covered = sum((hi - lo for lo, hi in _merge(spans, start, end)), timedelta())
    return covered / (end - start)


def _merged_fraction(merged: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> float:
    """`_fraction` for spans already merged (sorted, disjoint): clipping them is enough.

    Timedeltas add exactly, so the result is the very same float, without sorting again per period.
    """
    covered = timedelta()
    for lo, hi in merged:
        if hi <= start:
            continue
        if lo >= end:
            break
        covered += min(hi, end) - max(lo, start)
    return covered / (end - start)


def _spans(
    session: Session,
    device_ids: Sequence[str],
    start: datetime,
    end: datetime,
    among: Select[str] | None = None,
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each device's spans overlapping [start, end]; `among` selects the same ids in SQL.

    A province lists 3,000 devices: as a subquery they cost one bound parameter instead of 3,000, whose
    rendering was the largest single cost of listing them on PostgreSQL.
    """
    rows = session.execute(
        select(DeviceCoverage.device_id, DeviceCoverage.start_at, DeviceCoverage.end_at).where(
            DeviceCoverage.device_id.in_(device_ids if among is None else among),
            DeviceCoverage.end_at > start,
            DeviceCoverage.start_at < end,
        )
    )
    out: dict[str, list[tuple[datetime, datetime]]] = {device_id: [] for device_id in device_ids}
    for device_id, span_start, span_end in rows:
        # A device provisioned since the caller listed them is not asked about (READ COMMITTED).
        if device_id in out:
            out[device_id].append((span_start, span_end))
    return out


def device_uptime(session: Session, device_id: str, start: datetime, end: datetime) -> UptimeReport:
    """The fraction of [start, end] covered by the device's heartbeats, and the gaps in between."""
    if end <= start:
        raise ValidationFailed(
            Message("The end of the period must come after its start. Swap or change the dates.")
        )
    if session.get(Device, device_id) is None:
        raise NotFound(
            Message(
                "The cluster {device} does not exist. Check its code in the list, or add it first.",
                device=str(device_id)[:80],
            )
        )
    merged = _merge(_spans(session, [device_id], start, end)[device_id], start, end)
    gaps: list[Gap] = []
    cursor = start
    for lo, hi in merged:
        if lo > cursor:
            gaps.append(Gap(start=cursor, end=lo))
        cursor = hi
    if cursor < end:
        gaps.append(Gap(start=cursor, end=end))
    return UptimeReport(
        device_id=device_id, start=start, end=end, fraction=_fraction(merged, start, end), gaps=tuple(gaps)
    )


def uptime_slots(
    session: Session, device_id: str, now: datetime, period: timedelta, count: int
) -> UptimeSlots:
    """The `period` ending at `now` cut into `count` equal slots, each with its covered fraction.

    The overall fraction is computed from the same merged spans and the same provisioning time as
    `uptime_fractions` (the device page's percentage), so a picture drawn from the slots agrees with it.
    """
    if count < 1:
        raise ValueError(f"uptime slots: count must be at least 1, got {count}")
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(
            Message(
                "The cluster {device} does not exist. Check its code in the list, or add it first.",
                device=str(device_id)[:80],
            )
        )
    start = now - period
    merged = _merge(_spans(session, [device_id], start, now)[device_id], start, now)
    created = device.created_at
    step = period / count
    slots = []
    covered, lived = timedelta(), timedelta()
    for index in range(count):
        lo, hi = start + step * index, (now if index == count - 1 else start + step * (index + 1))
        since = max(lo, created)
        if since >= hi:
            slots.append(UptimeSlot(start=lo, end=hi, fraction=None))
            continue
        fraction = _merged_fraction(merged, since, hi)
        covered += (hi - since) * fraction
        lived += hi - since
        slots.append(UptimeSlot(start=lo, end=hi, fraction=fraction))
    return UptimeSlots(device_id=device_id, fraction=covered / lived if lived else None, slots=tuple(slots))


def uptime_fractions(
    session: Session,
    device_ids: Sequence[str],
    now: datetime,
    periods: Sequence[timedelta],
    *,
    created: Mapping[str, datetime] | None = None,
    among: Select[str] | None = None,
) -> dict[str, tuple[float, ...]]:
    """For each device, the uptime fraction over each of `periods` ending at `now` (one query for all).

    `created` (device id → provisioning time) saves a second query when the caller has the rows already;
    `among`, a query of exactly `device_ids`, keeps a long id list out of the SQL.
    """
    if not device_ids:
        return {}
    longest = max(periods)
    spans = _spans(session, device_ids, now - longest, now, among)
    # A device provisioned an hour ago is judged on that hour, not on a day it did not exist.
    if created is None:
        rows = session.execute(select(Device.id, Device.created_at).where(Device.id.in_(device_ids)))
        created = {device_id: created_at for device_id, created_at in rows}
    out: dict[str, tuple[float, ...]] = {}
    for device_id, device_spans in spans.items():
        merged = _merge(device_spans, now - longest, now)
        fractions = []
        for period in periods:
            start = max(now - period, created.get(device_id, now - period))
            fractions.append(_merged_fraction(merged, start, now) if start < now else 0.0)
        out[device_id] = tuple(fractions)
    return out


def window_uptime(
    session: Session, device_ids: Sequence[str], windows: Iterable[tuple[datetime, datetime]], now: datetime
) -> dict[str, float | None]:
    """For each device, the share of the windows' time up to `now` its heartbeats covered (two queries).

    Only window time since the device was provisioned counts, as for uptime over 24 h and 7 d: a cluster
    added today is not blamed for last week's windows. None for a device with no such window time yet.
    """
    clipped = [(start, min(end, now)) for start, end in windows]
    clipped = [(start, end) for start, end in clipped if end > start]
    if not device_ids:
        return {}
    if not clipped:
        return dict.fromkeys(device_ids)
    provisioned = select(Device.id, Device.created_at).where(Device.id.in_(device_ids))
    created: dict[str, datetime] = {device_id: at for device_id, at in session.execute(provisioned)}
    first, last = min(start for start, _ in clipped), max(end for _, end in clipped)
    spans = _spans(session, device_ids, first, last)
    out: dict[str, float | None] = {}
    for device_id, device_spans in spans.items():
        since = created.get(device_id, first)
        lived = [(max(start, since), end) for start, end in clipped if end > since]
        total = sum((end - start for start, end in lived), timedelta())
        if not total:
            out[device_id] = None
            continue
        merged = _merge(device_spans, first, last)
        covered = sum(
            ((end - start) * _merged_fraction(merged, start, end) for start, end in lived), timedelta()
        )
        out[device_id] = covered / total
    return out
