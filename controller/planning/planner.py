"""The planner (DESIGN §7): a pure function from approved bulletins, devices and `now` to per-device plans.

Owns the placement rules of `next_window`: window capacity, priority order, language versions back to back,
expiry, roll-over to the next window, and emergency items for play_now. It must not do I/O, read the clock,
sign or publish anything: the same inputs and `now` always give the same result, in the same order.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

from controller.planning.model import (
    AudioVersion,
    PlannedBulletin,
    PlannedDevice,
    PlanningInputs,
    PlanningRules,
)
from controller.planning.result import DeferReason, Deferred, DevicePlan, Placement, PlanningResult
from controller.planning.windows import WindowOccurrence, upcoming
from protocol import PlanItem

_RANK = {"emergency": 0, "priority": 1, "normal": 2}


@dataclass(frozen=True)
class _Pending:
    bulletin: PlannedBulletin
    versions: tuple[AudioVersion, ...]
    length: timedelta  # all versions back to back, with the gaps between them


@dataclass
class _Device:
    """What the planner has decided so far for one device."""

    device: PlannedDevice
    items: list[PlanItem]
    emergencies: list[PlanItem]
    placements: list[Placement]
    deferred: list[Deferred]

    def defer(
        self, bulletin: PlannedBulletin, reason: DeferReason, window: WindowOccurrence | None = None
    ) -> None:
        self.deferred.append(Deferred(bulletin.bulletin_id, self.device.device_id, reason, window))


def plan(inputs: PlanningInputs, now: datetime) -> PlanningResult:
    """Place every approved bulletin on its devices; emergencies come back as items to send at once."""
    if now.utcoffset() is None:
        raise ValueError(f"naive now {now.isoformat()}: pass an aware datetime (UTC)")
    # Whole seconds, rounded up: every planned time then survives the wire's millisecond format unchanged.
    now = _second(now, up=True)
    bulletins = sorted(inputs.bulletins, key=lambda b: (_RANK[b.priority], b.approved_at, b.bulletin_id))
    devices = sorted(inputs.devices, key=lambda d: d.device_id)
    known = {d.device_id for d in devices}
    unknown = sorted(
        (
            Deferred(b.bulletin_id, device_id, "unknown_device")
            for b in bulletins
            for device_id in b.device_ids - known
        ),
        key=lambda d: (d.device_id, d.bulletin_id),
    )
    states = [
        _plan_device(d, [b for b in bulletins if d.device_id in b.device_ids], now, inputs.rules)
        for d in devices
    ]
    return PlanningResult(
        now=now,
        devices=tuple(DevicePlan(s.device, tuple(s.items), tuple(s.emergencies)) for s in states),
        placements=tuple(p for s in states for p in s.placements),
        deferred=tuple(
            sorted([*unknown, *(d for s in states for d in s.deferred)], key=lambda d: d.device_id)
        ),
    )


def _plan_device(
    device: PlannedDevice, bulletins: list[PlannedBulletin], now: datetime, rules: PlanningRules
) -> _Device:
    state = _Device(device, [], [], [], [])
    pending = []
    for bulletin in bulletins:
        versions = bulletin.versions_for(device.languages)
        length = sum((_duration(v) for v in versions), timedelta()) + rules.gap * (len(versions) - 1)
        if not versions:
            state.defer(bulletin, "no_version")
        elif bulletin.priority == "emergency":
            _emergency(state, bulletin, versions, now, rules)
        elif length > device.schedule.longest:
            state.defer(bulletin, "too_long")
        else:
            pending.append(_Pending(bulletin, versions, length))
    earliest = max(now + rules.lead, _second(device.busy_until or now, up=True))
    for window in islice(_usable(upcoming(device.schedule, now), earliest), rules.horizon):
        pending = _fill(state, window, max(window.start, earliest), pending, rules)
    for left in pending:
        state.defer(left.bulletin, "beyond_horizon")
    return state


def _usable(windows: Iterator[WindowOccurrence], earliest: datetime) -> Iterable[WindowOccurrence]:
    """Occurrences with some room after `earliest`; an open window about to close does not count."""
    return (w for w in windows if max(w.start, earliest) < w.end)


def _fill(
    state: _Device, window: WindowOccurrence, cursor: datetime, pending: list[_Pending], rules: PlanningRules
) -> list[_Pending]:
    """Place what fits in `window` in order (first fit) and return what rolls on to the next one."""
    rolled = []
    for entry in pending:
        bulletin, end, expires_at = entry.bulletin, cursor + entry.length, _expiry(entry.bulletin)
        if expires_at is not None and end > expires_at:
            state.defer(bulletin, "expired", window)  # every later place ends later still
        elif end > window.end:
            state.defer(bulletin, "window_full", window)
            rolled.append(entry)
        else:
            _place(state, entry, window, cursor, rules)
            cursor = end + rules.gap
    return rolled


def _place(
    state: _Device, entry: _Pending, window: WindowOccurrence, start: datetime, rules: PlanningRules
) -> None:
    bulletin, expires_at = entry.bulletin, _expiry(entry.bulletin)
    not_after = window.end if expires_at is None else min(window.end, expires_at)
    items = []
    at = start
    for version in entry.versions:
        items.append(
            _item(
                bulletin,
                version,
                f"{window.key}-{version.language}",
                start=at,
                not_after=not_after,
                window=window.name,
            )
        )
        at += _duration(version) + rules.gap
    state.items.extend(items)
    state.placements.append(
        Placement(
            bulletin_id=bulletin.bulletin_id,
            device_id=state.device.device_id,
            window=window,
            planned_start=start,
            planned_end=start + entry.length,
            item_ids=tuple(i.item_id for i in items),
        )
    )


def _emergency(
    state: _Device,
    bulletin: PlannedBulletin,
    versions: tuple[AudioVersion, ...],
    now: datetime,
    rules: PlanningRules,
) -> None:
    not_after, expires_at = now + rules.emergency_validity, _expiry(bulletin)
    if expires_at is not None:
        if expires_at <= now:
            state.defer(bulletin, "expired")
            return
        not_after = min(not_after, expires_at)
    # The agent plays them in this order on receipt, interrupting the window programme (DESIGN §7).
    state.emergencies.extend(
        _item(bulletin, v, f"emergency-{v.language}", start=now, not_after=not_after, window=None)
        for v in versions
    )


def _item(
    bulletin: PlannedBulletin,
    version: AudioVersion,
    suffix: str,
    *,
    start: datetime,
    not_after: datetime,
    window: str | None,
) -> PlanItem:
    return PlanItem(
        item_id=f"b{bulletin.bulletin_id}-{suffix}",
        bulletin_id=bulletin.bulletin_id,
        priority=bulletin.priority,
        asset=version.asset,
        not_before=start,
        not_after=not_after,
        planned_start=start,
        window=window,
    )


def _expiry(bulletin: PlannedBulletin) -> datetime | None:
    return None if bulletin.expires_at is None else _second(bulletin.expires_at, up=False)


def _second(moment: datetime, *, up: bool) -> datetime:
    floor = moment.astimezone(UTC).replace(microsecond=0)
    return floor + timedelta(seconds=1) if up and floor < moment else floor


def _duration(version: AudioVersion) -> timedelta:
    return timedelta(milliseconds=version.asset.duration_ms)
