"""The planner (DESIGN §7): a pure function from approved bulletins, devices and `now` to per-device plans.

Owns the placement rules: window capacity, priority order, language versions back to back, repeats,
schedule options (dates, windows, start time), expiry, roll-over to the next window, keeping published
items where they are, relay slots at their fixed times (controller.planning.relay), and emergency items
for play_now. It must not do I/O, read the clock,
sign or publish anything: the same inputs and `now` always give the same result, in the same order.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from controller.planning import item_ids as ids
from controller.planning.model import (
    AudioVersion,
    PlannedBulletin,
    PlannedDevice,
    PlanningInputs,
    PlanningRules,
)
from controller.planning.relay import relay_item, relay_slot
from controller.planning.result import DeferReason, Deferred, DevicePlan, Placement, PlanningResult
from controller.planning.windows import WindowOccurrence, upcoming
from protocol import PlanItem, SourcedItem

_RANK = {"emergency": 0, "priority": 1, "normal": 2}


@dataclass(frozen=True)
class _Pending:
    bulletin: PlannedBulletin
    versions: tuple[AudioVersion, ...]
    length: timedelta  # every repeat of all versions back to back, with the gaps between them


@dataclass
class _Device:
    """What the planner has decided so far for one device."""

    device: PlannedDevice
    pins: Mapping[str, datetime]  # item id → its published planned_start
    items: list[PlanItem]
    emergencies: list[PlanItem]
    placements: list[Placement]
    deferred: list[Deferred]
    sourced: list[SourcedItem]

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
    pins: dict[str, dict[str, datetime]] = {}
    for pin in inputs.pins:
        pins.setdefault(pin.device_id, {})[pin.item_id] = pin.planned_start
    states = [
        _plan_device(
            _Device(d, pins.get(d.device_id, {}), [], [], [], [], []),
            _in_order([b for b in bulletins if d.device_id in b.device_ids], d.device_id),
            now,
            inputs.rules,
        )
        for d in devices
    ]
    return PlanningResult(
        now=now,
        devices=tuple(
            DevicePlan(s.device, tuple(s.items), tuple(s.emergencies), tuple(s.sourced)) for s in states
        ),
        placements=tuple(p for s in states for p in s.placements),
        deferred=tuple(
            sorted([*unknown, *(d for s in states for d in s.deferred)], key=lambda d: d.device_id)
        ),
    )


def _in_order(bulletins: list[PlannedBulletin], device_id: str) -> list[PlannedBulletin]:
    """Priority first; within a priority, from higher up first unless the commune chose otherwise."""
    return sorted(
        bulletins, key=lambda b: (_RANK[b.priority], b.rank_on(device_id), b.approved_at, b.bulletin_id)
    )


def _plan_device(
    state: _Device, bulletins: list[PlannedBulletin], now: datetime, rules: PlanningRules
) -> _Device:
    device = state.device
    pending = []
    for bulletin in bulletins:
        versions = bulletin.versions_for(device.languages)
        once = sum((_duration(v) for v in versions), timedelta()) + rules.gap * (len(versions) - 1)
        length = once * bulletin.schedule.repeat + rules.gap * (bulletin.schedule.repeat - 1)
        if bulletin.relay is not None:
            length = bulletin.relay.duration
            versions = versions[:1]  # the Vietnamese filler
        if not versions:
            state.defer(bulletin, "no_version")
        elif bulletin.relay is not None and not device.reads_sources:
            state.defer(bulletin, "unsupported_source")
        elif bulletin.priority == "emergency":
            _emergency(state, bulletin, versions, now, rules)
        elif length > device.schedule.longest:
            state.defer(bulletin, "too_long")
        else:
            pending.append(_Pending(bulletin, versions, length))
    earliest = max(now + rules.lead, _second(device.busy_until or now, up=True))
    counted = 0
    for window in upcoming(device.schedule, now):
        if counted == rules.horizon:
            break
        # A window about to close keeps only what was already published in it (it may be playing).
        room = max(window.start, earliest) < window.end
        pending = _fill(
            state, window, pending, now=now, earliest=earliest if room else window.end, rules=rules
        )
        counted += room
    placed = {p.bulletin_id for p in state.placements}
    for left in pending:
        if left.bulletin.bulletin_id not in placed:
            state.defer(left.bulletin, "beyond_horizon")
    state.items.sort(key=lambda i: (i.planned_start, i.item_id))
    state.sourced.sort(key=lambda i: (i.planned_start, i.item_id))
    state.placements.sort(key=lambda p: (p.planned_start, p.bulletin_id))
    return state


def _fill(
    state: _Device,
    window: WindowOccurrence,
    pending: list[_Pending],
    *,
    now: datetime,
    earliest: datetime,
    rules: PlanningRules,
) -> list[_Pending]:
    """Place what may go in `window`: published items where they were, then the rest in order (first fit).

    Returns what stays pending: entries rolling on, and recurring entries (they want later dates too).
    """
    busy: list[tuple[datetime, datetime]] = []
    done: set[int] = set()
    dropped: set[int] = set()
    allowed = [e for e in pending if e.bulletin.schedule.allows(window.name, window.local_date)]
    # Relay slots first: their time is fixed, everything else fits around them (DESIGN §4).
    relays = [e for e in allowed if e.bulletin.relay is not None]
    allowed = [e for e in allowed if e.bulletin.relay is None]
    _place_relays(
        state, window, relays, earliest=earliest, busy=busy, done=done, dropped=dropped, rules=rules
    )
    # Published items keep their place once the window is open or about to open (within the lead time):
    # later the lead would move them on every replan. Before that, a fresh placement keeps priority order.
    pinned = window.start < now + rules.lead
    for entry in allowed if pinned else ():
        start = state.pins.get(_item_ids(entry, window)[0])
        if start is not None and _pin_fits(entry, window, start, busy, rules):
            _place(state, entry, window, start, busy=busy, rules=rules)
            done.add(entry.bulletin.bulletin_id)
    for entry in allowed:
        bulletin = entry.bulletin
        lower = _lower_bound(entry, window, earliest, state.device.schedule.timezone)
        if bulletin.bulletin_id in done or lower is None:
            continue
        start = _slot(busy, lower, entry.length, rules.gap)
        end, expires_at = start + entry.length, _expiry(bulletin)
        if expires_at is not None and end > expires_at:
            state.defer(bulletin, "expired", window)  # every later place ends later still
            dropped.add(bulletin.bulletin_id)
        elif end > window.end:
            if earliest < window.end:
                state.defer(bulletin, "window_full", window)
        else:
            _place(state, entry, window, start, busy=busy, rules=rules)
            done.add(bulletin.bulletin_id)
    return [
        e
        for e in pending
        if e.bulletin.bulletin_id not in dropped
        and (e.bulletin.bulletin_id not in done or e.bulletin.schedule.recurring)
    ]


def _place_relays(
    state: _Device,
    window: WindowOccurrence,
    relays: list[_Pending],
    *,
    earliest: datetime,
    busy: list[tuple[datetime, datetime]],
    done: set[int],
    dropped: set[int],
    rules: PlanningRules,
) -> None:
    """Place the relay slots of this occurrence at their start times.

    A slot already running is placed too (agents join it late); one whose time another slot holds is
    deferred, and one that would end after its expiry is dropped.
    """
    for entry in relays:
        bulletin = entry.bulletin
        slot = relay_slot(bulletin, window, state.device.schedule.timezone)
        if slot is None or slot[1] <= earliest:
            continue  # not in this occurrence, or over before a plan could reach the device
        start, end = slot
        expires_at = _expiry(bulletin)
        if expires_at is not None and end > expires_at:
            state.defer(bulletin, "expired", window)
            dropped.add(bulletin.bulletin_id)
        elif not all(end + rules.gap <= s or e + rules.gap <= start for s, e in busy):
            state.defer(bulletin, "window_full", window)
        else:
            item_id = ids.item_id(bulletin.bulletin_id, bulletin.revision, window.key, "relay")
            state.sourced.append(relay_item(bulletin, item_id, entry.versions[0].asset, slot, window.name))
            busy.append(slot)
            state.placements.append(
                Placement(bulletin.bulletin_id, state.device.device_id, window, start, end, (item_id,))
            )
            done.add(bulletin.bulletin_id)


def _lower_bound(
    entry: _Pending, window: WindowOccurrence, earliest: datetime, zone: ZoneInfo
) -> datetime | None:
    """The earliest start in this occurrence, or None when its start time lies outside it."""
    lower = max(window.start, earliest)
    start_time = entry.bulletin.schedule.start_time
    if start_time is None:
        return lower
    at = datetime.combine(window.local_date, start_time, tzinfo=zone).astimezone(UTC)
    return max(lower, at) if window.start <= at < window.end else None


def _slot(
    busy: list[tuple[datetime, datetime]], lower: datetime, length: timedelta, gap: timedelta
) -> datetime:
    """The earliest start at or after `lower` that keeps `gap` to everything already placed."""
    start = lower
    for taken_start, taken_end in sorted(busy):
        if start + length + gap <= taken_start:
            break
        start = max(start, taken_end + gap)
    return start


def _pin_fits(
    entry: _Pending,
    window: WindowOccurrence,
    start: datetime,
    busy: list[tuple[datetime, datetime]],
    rules: PlanningRules,
) -> bool:
    end, expires_at = start + entry.length, _expiry(entry.bulletin)
    if not window.start <= start or end > window.end or (expires_at is not None and end > expires_at):
        return False
    return all(end + rules.gap <= s or e + rules.gap <= start for s, e in busy)


def _item_ids(entry: _Pending, window: WindowOccurrence) -> list[str]:
    """Ids of the items of one placement: every version, then again for each repeat."""
    bulletin = entry.bulletin
    return [
        ids.item_id(bulletin.bulletin_id, bulletin.revision, window.key, v.language, k)
        for k in range(bulletin.schedule.repeat)
        for v in entry.versions
    ]


def _place(
    state: _Device,
    entry: _Pending,
    window: WindowOccurrence,
    start: datetime,
    *,
    busy: list[tuple[datetime, datetime]],
    rules: PlanningRules,
) -> None:
    bulletin, expires_at = entry.bulletin, _expiry(entry.bulletin)
    not_after = window.end if expires_at is None else min(window.end, expires_at)
    items = []
    at = start
    versions = entry.versions * bulletin.schedule.repeat
    for item_id, version in zip(_item_ids(entry, window), versions, strict=True):
        items.append(_item(bulletin, version, item_id, start=at, not_after=not_after, window=window.name))
        at += _duration(version) + rules.gap
    busy.append((start, start + entry.length))
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
        _item(
            bulletin,
            v,
            ids.item_id(bulletin.bulletin_id, bulletin.revision, "emergency", v.language),
            start=now,
            not_after=not_after,
            window=None,
        )
        for v in versions
    )


def _item(
    bulletin: PlannedBulletin,
    version: AudioVersion,
    item_id: str,
    *,
    start: datetime,
    not_after: datetime,
    window: str | None,
) -> PlanItem:
    return PlanItem(
        item_id=item_id,
        bulletin_id=bulletin.bulletin_id,
        priority=bulletin.priority,
        asset=version.asset,
        not_before=start,
        not_after=not_after,
        planned_start=start,
        window=window,
        volume=bulletin.volume,
    )


def _expiry(bulletin: PlannedBulletin) -> datetime | None:
    return None if bulletin.expires_at is None else _second(bulletin.expires_at, up=False)


def _second(moment: datetime, *, up: bool) -> datetime:
    floor = moment.astimezone(UTC).replace(microsecond=0)
    return floor + timedelta(seconds=1) if up and floor < moment else floor


def _duration(version: AudioVersion) -> timedelta:
    return timedelta(milliseconds=version.asset.duration_ms)
