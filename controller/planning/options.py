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


@dataclass(frozen=True)
class ScheduleOptions:
    """When a person asked a bulletin to play: the one typed schedule, from the API to the planner.

    The bulletin service builds it from a request after checking every field (with the commune's windows);
    it is stored as `to_json()` and read back with `from_json()`; `resolve()` turns it into the planner's
    `BulletinSchedule` once the first day (the approval's) is known. Counts left out (None) take their
    defaults and stay out of the JSON. `revision` counts edits after approval (new item ids each time).
    """

    mode: ScheduleMode = "next_window"
    dates: tuple[date, ...] = ()
    days: int | None = None
    start_date: date | None = None
    weekdays: tuple[int, ...] = ()
    windows: tuple[str, ...] = ()
    start_time: time | None = None
    repeat: int | None = None
    emergency_repeat: int | None = None
    emergency_gap_s: int | None = None
    expires_at: datetime | None = None
    revision: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ScheduleOptions":
        """Read stored options (ValueError, KeyError or TypeError for what no checked request gives)."""
        mode = data.get("mode", "next_window")
        if mode not in SCHEDULE_MODES:
            raise ValueError(f"schedule: unknown mode {mode!r}")
        start_time, expires_at = data.get("start_time"), data.get("expires_at")
        return cls(
            mode=mode,
            dates=tuple(date.fromisoformat(d) for d in data.get("dates", ())),
            days=None if data.get("days") is None else int(data["days"]),
            start_date=None if data.get("start_date") is None else date.fromisoformat(data["start_date"]),
            weekdays=tuple(int(d) for d in data.get("weekdays") or ()),
            windows=tuple(str(w) for w in data.get("windows") or ()),
            start_time=None if start_time is None else time.fromisoformat(start_time),
            repeat=_count(data, "repeat"),
            emergency_repeat=_count(data, "emergency_repeat"),
            emergency_gap_s=_count(data, "emergency_gap_s"),
            expires_at=None if expires_at is None else datetime.fromisoformat(expires_at),
            revision=int(data.get("revision", 0)),
        )

    def to_json(self) -> dict[str, Any]:
        """The stored and served form (the keys of docs/scheduling.md; what was left out stays out)."""
        out: dict[str, Any] = {"mode": self.mode}
        if self.mode == "dates":
            out["dates"] = [d.isoformat() for d in self.dates]
        if self.mode == "daily":
            out["days"] = self.days
            if self.start_date is not None:
                out["start_date"] = self.start_date.isoformat()
            if self.weekdays:
                out["weekdays"] = list(self.weekdays)
        if self.windows:
            out["windows"] = list(self.windows)
        if self.start_time is not None:
            out["start_time"] = self.start_time.isoformat()
        for key in ("repeat", "emergency_repeat", "emergency_gap_s"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.expires_at is not None:
            out["expires_at"] = self.expires_at.isoformat()
        if self.revision:
            out["revision"] = self.revision
        return out

    def resolve(self, first_day: date) -> BulletinSchedule:
        """The planner's view; `daily` counts its days from `start_date`, else from `first_day`."""
        dates: frozenset[date] | None = None
        if self.mode == "dates":
            dates = frozenset(self.dates)
        elif self.mode == "daily":
            start = self.start_date or first_day
            span = [start + timedelta(days=n) for n in range(self.days or 0)]
            weekdays = set(self.weekdays or range(7))
            dates = frozenset(d for d in span if d.weekday() in weekdays)
        return BulletinSchedule(
            dates=dates,
            windows=frozenset(self.windows),
            start_time=self.start_time,
            repeat=1 if self.repeat is None else self.repeat,
            emergency_repeat=3 if self.emergency_repeat is None else self.emergency_repeat,
            emergency_gap_s=5 if self.emergency_gap_s is None else self.emergency_gap_s,
        )


def _count(data: Mapping[str, Any], key: str) -> int | None:
    return None if data.get(key) is None else int(data[key])


def schedule_from_options(options: Mapping[str, Any], first_day: date) -> BulletinSchedule:
    """The planner's view of stored options: `ScheduleOptions.from_json(options).resolve(first_day)`."""
    return ScheduleOptions.from_json(options).resolve(first_day)


@dataclass(frozen=True)
class Pin:
    """An item already published to a device at `planned_start`; the planner keeps it there if it can."""

    device_id: str
    item_id: str
    planned_start: datetime

    def __post_init__(self) -> None:
        if self.planned_start.utcoffset() is None:
            raise ValueError(f"pin {self.item_id}: naive planned_start; pass an aware datetime (UTC)")
