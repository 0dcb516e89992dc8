"""What to play now: a pure function of the plan, the time, and what has been played (DESIGN §7).

Owns the playing rules: windows in the plan's time zone, not_before / not_after, priority order, repeats,
late starts while the window is open, skips. It must not read clocks, files or MQTT: `now` is an argument.
"""

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from protocol import PlanBody, PlanItem, SourcedItem, StreamSource, WindowSpec

_RANK: Final = {"emergency": 0, "priority": 1, "normal": 2}
_MAX_LOOKAHEAD_DAYS: Final = 31


@dataclass(frozen=True)
class Progress:
    """How far one item got: completed plays, when the last one finished, and why it is closed (if it is)."""

    plays: int = 0
    last_finished: datetime | None = None
    closed: str | None = None


@dataclass(frozen=True)
class Emergency:
    """A `play_now` item: plays at once regardless of windows, `repeat` times with `gap_s` between."""

    item: PlanItem
    repeat: int
    gap_s: float


@dataclass(frozen=True)
class Skip:
    """An item that will never play from this plan, and why (`window_closed`, `expired`, `no_window`)."""

    item: PlanItem | SourcedItem
    reason: str


@dataclass(frozen=True)
class Decision:
    """The item to start now (or None), whether it is an emergency, skips to report, and when to ask again.

    `held` lists plan items that are due by the clock but were not started because the clock is not trusted;
    `next_start` is the earliest moment a ready item may start later (the amplifier warms up before it).
    """

    play: PlanItem | SourcedItem | None
    emergency: bool
    skips: tuple[Skip, ...]
    wake_at: datetime | None
    held: tuple[PlanItem, ...] = ()
    next_start: datetime | None = None


def _window_instances(
    windows: Sequence[WindowSpec], tz: ZoneInfo, first: datetime, days: int
) -> list[tuple[datetime, datetime]]:
    day0 = first.astimezone(tz).date()
    out = []
    for offset in range(-1, days + 1):
        day = day0 + timedelta(days=offset)
        for spec in windows:
            start = datetime.combine(day, time.fromisoformat(spec.start), tz)
            end = datetime.combine(day, time.fromisoformat(spec.end), tz)
            out.append((start, end))
    return sorted(out)


def _end(item: PlanItem | SourcedItem) -> datetime:
    """When an item may play until: not_after, or a stream slot's end."""
    return item.ends_at if isinstance(item, SourcedItem) else item.not_after


def play_span(plan: PlanBody, item: PlanItem | SourcedItem) -> tuple[datetime, datetime] | None:
    """When a normal/priority item may start: its window instance clipped to [planned_start, not_after)."""
    named = tuple(w for w in plan.windows if w.name == item.window)
    earliest = max(item.planned_start, item.not_before)
    return _span(named or plan.windows, plan.timezone, earliest, _end(item))


def ends_a_window(plan: PlanBody, item: PlanItem | SourcedItem) -> bool:
    """Whether the item's not_after is the end of one of its windows (local wall-clock time)."""
    local_end = item.not_after.astimezone(ZoneInfo(plan.timezone)).strftime("%H:%M:%S")
    named = tuple(w for w in plan.windows if w.name == item.window)
    return any(w.end == local_end for w in named or plan.windows)


# The loop asks about every item on each wake-up; a plan's spans do not change, so they are memoized.
@lru_cache(maxsize=8192)
def _span(
    windows: tuple[WindowSpec, ...], timezone: str, earliest: datetime, not_after: datetime
) -> tuple[datetime, datetime] | None:
    days = min((not_after - earliest).days + 1, _MAX_LOOKAHEAD_DAYS)
    for start, end in _window_instances(windows, ZoneInfo(timezone), earliest, days):
        if end > earliest and start < not_after:
            # In UTC: comparing aware datetimes across zones costs a utcoffset() call each time.
            return max(start, earliest).astimezone(UTC), min(end, not_after).astimezone(UTC)
    return None


def _emergency_decision(
    emergencies: Sequence[Emergency],
    now: datetime,
    progress: Mapping[str, Progress],
    ready: Container[str],
    playing: str | None,
) -> tuple[PlanItem | None, list[Skip], list[datetime]]:
    skips: list[Skip] = []
    wakes: list[datetime] = []
    for entry in emergencies:
        state = progress.get(entry.item.item_id, Progress())
        if state.closed or state.plays >= entry.repeat or entry.item.item_id == playing:
            continue
        if now >= entry.item.not_after:
            skips.append(Skip(entry.item, "expired"))
            continue
        if entry.item.asset.sha256 not in ready:
            continue
        if state.last_finished is not None and now < state.last_finished + timedelta(seconds=entry.gap_s):
            wakes.append(state.last_finished + timedelta(seconds=entry.gap_s))
            continue
        return entry.item, skips, wakes
    return None, skips, wakes


def _held_items(plan: PlanBody, now: datetime, progress: Mapping[str, Progress]) -> list[PlanItem]:
    """Open plan items the (untrusted) clock says are due now: held, neither played nor closed."""
    held = []
    for item in plan.items:
        state = progress.get(item.item_id, Progress())
        if state.closed or state.plays >= item.repeat:
            continue
        span = (item.not_before, item.not_after) if item.priority == "emergency" else play_span(plan, item)
        if span is not None and span[0] <= now < span[1]:
            held.append(item)
    return held


def _plan_candidates(
    plan: PlanBody,
    now: datetime,
    progress: Mapping[str, Progress],
    ready: Container[str],
    playing: str | None,
) -> tuple[list[PlanItem | SourcedItem], list[Skip], list[datetime], list[datetime]]:
    """Plan items that may start now (best first), skips, wake-up moments, and later ready starts.

    Stream slots (relay) rank with priority items (emergency > live > relay/priority > normal, DESIGN §4)
    and need no asset: their filler is optional.
    """
    ranked: list[tuple[int, datetime, str, PlanItem | SourcedItem]] = []
    skips: list[Skip] = []
    wakes: list[datetime] = []
    starts: list[datetime] = []
    items: list[PlanItem | SourcedItem] = [*plan.items]
    items += [i for i in plan.sourced if isinstance(i.source, StreamSource)]
    for item in items:
        state = progress.get(item.item_id, Progress())
        if state.closed or state.plays >= item.repeat or item.item_id == playing:
            continue
        if item.priority == "emergency":
            span: tuple[datetime, datetime] | None = (
                max(item.planned_start, item.not_before),
                _end(item),
            )
        else:
            span = play_span(plan, item)
        if now >= _end(item):
            # The planner sets not_after to the window's end: then it is the window that closed, which
            # is what an operator should read; only an expiry of its own is reported as one.
            ends_window = item.priority != "emergency" and ends_a_window(plan, item)
            skips.append(Skip(item, "window_closed" if ends_window else "expired"))
        elif span is None:
            skips.append(Skip(item, "no_window"))
        elif now >= span[1]:
            skips.append(Skip(item, "window_closed"))
        else:
            wakes.append(span[0] if now < span[0] else span[1])
            if isinstance(item, PlanItem) and item.asset.sha256 not in ready:
                continue
            if now >= span[0]:
                rank = _RANK[item.priority] if isinstance(item, PlanItem) else min(_RANK[item.priority], 1)
                ranked.append((rank, span[0], item.item_id, item))
            else:
                starts.append(span[0])
    ranked.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in ranked], skips, wakes, starts


def decide(
    plan: PlanBody | None,
    emergencies: Sequence[Emergency],
    now: datetime,
    progress: Mapping[str, Progress],
    *,
    ready: Container[str],
    playing: str | None = None,
    clock_ok: bool = True,
) -> Decision:
    """Which item starts now, which items are skipped, and the next moment worth asking again.

    `ready` holds the sha256 of every asset in the cache; `playing` is the item playing now (never skipped,
    never started twice). An emergency is returned even while something else plays: the caller interrupts.
    Between the repeats of an emergency nothing else starts: the programme resumes after the last one.
    With `clock_ok` False no plan item starts or is closed by time: the due ones come back as `held`;
    `play_now` emergencies still play.
    """
    chosen, skips, gap_ends = _emergency_decision(emergencies, now, progress, ready, playing)
    if chosen is not None:
        return Decision(chosen, True, tuple(skips), None)
    if not clock_ok:
        held = () if plan is None else tuple(_held_items(plan, now, progress))
        return Decision(None, False, tuple(skips), min(gap_ends, default=None), held)
    candidates, plan_skips, wakes, starts = (
        ([], [], [], []) if plan is None else _plan_candidates(plan, now, progress, ready, playing)
    )
    skips += plan_skips
    wake_at = min([*gap_ends, *wakes], default=None)
    next_start = min([*gap_ends, *starts], default=None)
    if gap_ends or playing is not None:
        candidates = [c for c in candidates if c.priority == "emergency"]
    if candidates:
        emergency = candidates[0].priority == "emergency"
        return Decision(candidates[0], emergency, tuple(skips), wake_at, next_start=next_start)
    return Decision(None, False, tuple(skips), wake_at, next_start=next_start)
