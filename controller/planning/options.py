"""When a bulletin may play: its schedule options as the planner reads them, and pins of published plans.

Owns `BulletinSchedule` (which local dates and windows, an earliest start time within the window, plays per
window, emergency repeats) built from the options the bulletin service checked, and `Pin` (an item's
already published start, which the planner keeps). It must not read the database or the clock.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal

ScheduleMode = Literal["next_window", "dates", "daily"]
SCHEDULE_MODES: Final[tuple[ScheduleMode, ...]] = ("next_window", "dates", "daily")
MAX_REPEAT: Final = 10  # plays of one bulletin in one window occurrence
MAX_EMERGENCY_REPEAT: Final = 20  # the protocol's bound for play_now
MAX_EMERGENCY_GAP_S: Final = 600
# The dates a schedule may name. Far enough for any real broadcast; far from date.min/max, so adding a
# window's days or a time zone to a date never overflows (issue 20: 9999-12-31 stopped every planning run).
EARLIEST_DATE: Final = date(2000, 1, 1)
LATEST_DATE: Final = date(2099, 12, 31)


@dataclass(frozen=True)
class BulletinSchedule:
    """Where a bulletin may be placed.

    `dates` None means the next usable window (rolling on while windows are full); a set of local dates
    means every matching window occurrence on those dates gets its own placement (a full one is skipped,
    not rolled; an empty set plays nowhere). `windows` empty means any window. `start_time` is the
    earliest local start within the window; an occurrence that does not contain it is not used.
    `repeat` is plays per occurrence, back to back with the gap; `emergency_repeat` and
    `emergency_gap_s` shape a `play_now`.
    """

    dates: frozenset[date] | None = None
    windows: frozenset[str] = frozenset()
    start_time: time | None = None
    repeat: int = 1
    emergency_repeat: int = 3
    emergency_gap_s: int = 5

    def __post_init__(self) -> None:
        if not 1 <= self.repeat <= MAX_REPEAT:
            raise ValueError(f"schedule: repeat must be 1–{MAX_REPEAT}, got {self.repeat}")
        if not 1 <= self.emergency_repeat <= MAX_EMERGENCY_REPEAT:
            raise ValueError(f"schedule: emergency repeat must be 1–{MAX_EMERGENCY_REPEAT}")
        if not 0 <= self.emergency_gap_s <= MAX_EMERGENCY_GAP_S:
            raise ValueError(f"schedule: emergency gap must be 0–{MAX_EMERGENCY_GAP_S} s")
        outside = sorted(d for d in self.dates or () if not EARLIEST_DATE <= d <= LATEST_DATE)
        if outside:
            raise ValueError(f"schedule: date {outside[0]} is outside {EARLIEST_DATE}–{LATEST_DATE}")

    @property
    def recurring(self) -> bool:
        """True when the bulletin plays on given dates (once per matching window) rather than once."""
        return self.dates is not None

    @property
    def last_day(self) -> date | None:
        """The last local date it may play on (None: until played or expired; date.min: never)."""
        return None if self.dates is None else max(self.dates, default=date.min)

    def allows(self, window_name: str, local_date: date) -> bool:
        """Whether an occurrence of this window on this local date may carry the bulletin."""
        if self.windows and window_name not in self.windows:
            return False
        return self.dates is None or local_date in self.dates


def schedule_from_options(options: Mapping[str, Any], first_day: date) -> BulletinSchedule:
    """Build the planner's view of checked schedule options; `daily` counts its days from `first_day`.

    Options (as the bulletin service stores them): ``mode`` next_window | dates | daily; ``dates``
    [YYYY-MM-DD]; ``days`` N and optional ``start_date`` and ``weekdays`` [0=Monday … 6]; ``windows``
    [names]; ``start_time`` "HH:MM[:SS]"; ``repeat``; ``emergency_repeat``; ``emergency_gap_s``.
    """
    mode = options.get("mode", "next_window")
    dates: frozenset[date] | None = None
    if mode == "dates":
        dates = frozenset(date.fromisoformat(d) for d in options["dates"])
    elif mode == "daily":
        start = date.fromisoformat(options["start_date"]) if "start_date" in options else first_day
        span = [start + timedelta(days=n) for n in range(int(options["days"]))]
        weekdays = set(options.get("weekdays") or range(7))
        dates = frozenset(d for d in span if d.weekday() in weekdays)
    start_time = options.get("start_time")
    return BulletinSchedule(
        dates=dates,
        windows=frozenset(options.get("windows") or ()),
        start_time=None if start_time is None else time.fromisoformat(start_time),
        repeat=int(options.get("repeat", 1)),
        emergency_repeat=int(options.get("emergency_repeat", 3)),
        emergency_gap_s=int(options.get("emergency_gap_s", 5)),
    )


@dataclass(frozen=True)
class Pin:
    """An item already published to a device at `planned_start`; the planner keeps it there if it can."""

    device_id: str
    item_id: str
    planned_start: datetime

    def __post_init__(self) -> None:
        if self.planned_start.utcoffset() is None:
            raise ValueError(f"pin {self.item_id}: naive planned_start; pass an aware datetime (UTC)")
