"""Broadcast windows: the schedule file (DESIGN §7) and the concrete window occurrences it yields.

Owns reading and checking `schedules/*.toml` into a frozen `Schedule`, and turning its daily local windows
into aware UTC occurrences. It must not touch bulletins, devices or the clock: `now` is always an argument.
"""

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise, takewhile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from protocol import MAX_PLAN_WINDOWS, ProtocolError, WindowSpec, check_plan_windows

# Unknown keys are refused: a file that relies on a key this version does not read must fail loudly.
# `override` tables are read by controller.planning.schedule_file.
_TOP_KEYS = ("timezone", "window", "blackout", "override")
_WINDOW_KEYS = ("name", "start", "end")
_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")
_NAME = re.compile(r"[\w-]{1,32}")


class ScheduleError(ValueError):
    """A schedule that cannot be used; the message names the file, the window and the problem.

    `needle` is text on the offending line of the file (a key or a value), or several texts found one
    after the other (a window's name, then its key), so `loaxa check-config` can point at the line.
    """

    def __init__(self, message: str, needle: str | tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.needle = (needle,) if isinstance(needle, str) else needle


@dataclass(frozen=True)
class Schedule:
    """Daily windows in one time zone, sorted by start and never overlapping; none on blackout days."""

    timezone: ZoneInfo
    windows: tuple[WindowSpec, ...]
    source: str = field(default="", compare=False)
    blackout: frozenset[date] = (
        frozenset()
    )  # local dates without any window (e.g. a national day of mourning)

    @property
    def longest(self) -> timedelta:
        """The nominal length of the longest window (a DST change day may make a window shorter)."""
        return timedelta(seconds=max(_seconds(w.end) - _seconds(w.start) for w in self.windows))


@dataclass(frozen=True)
class WindowOccurrence:
    """One window on one local day, as aware UTC datetimes."""

    name: str
    local_date: date
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """A stable name for this occurrence, e.g. ``2026-11-22-morning``."""
        return f"{self.local_date.isoformat()}-{self.name}"

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` falls inside [start, end)."""
        return self.start <= moment < self.end


def load_schedule(path: Path) -> Schedule:
    """Read and check a schedule TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleError(f"{path}: cannot read the schedule file ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"{path}: not valid TOML: {exc}") from exc  # tomllib names the line
    return parse_schedule(data, str(path))


def parse_schedule(data: Mapping[str, Any], source: str) -> Schedule:
    """Check an already decoded schedule document; `source` names it in error messages."""
    _refuse_unknown(data, _TOP_KEYS, source)
    if "timezone" not in data:
        raise ScheduleError(f'{source}: missing key "timezone" (e.g. timezone = "Asia/Ho_Chi_Minh")')
    zone = _zone(data["timezone"], source)
    tables = data.get("window")
    if not isinstance(tables, list) or not tables:
        raise ScheduleError(f"{source}: no [[window]] tables; add at least one with name, start and end")
    windows = sorted((_window(t, i, source) for i, t in enumerate(tables, 1)), key=lambda w: w.start)
    names = [w.name for w in windows]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ScheduleError(
            f"{source}: window {repeated[0]!r} is defined more than once; give each a unique name",
            repeated[0],
        )
    for before, after in pairwise(windows):
        if after.start < before.end:
            raise ScheduleError(
                f"{source}: window {after.name!r} ({after.start}–{after.end}) overlaps window "
                f"{before.name!r} ({before.start}–{before.end}); windows must not overlap",
                after.name,
            )
    _fits_the_wire(zone, tuple(windows), source)
    return Schedule(
        timezone=zone, windows=tuple(windows), source=source, blackout=blackout_dates(data, source)
    )


def _fits_the_wire(zone: ZoneInfo, windows: tuple[WindowSpec, ...], source: str) -> None:
    """Refuse windows an agent would refuse in every plan (its reader's limits, e.g. at most 48)."""
    if len(windows) > MAX_PLAN_WINDOWS:
        raise ScheduleError(
            f"{source}: có {len(windows)} khung giờ phát sóng, nhưng thiết bị chỉ nhận tối đa "
            f"{MAX_PLAN_WINDOWS} khung giờ trong một kế hoạch; hãy gộp hoặc bớt khung giờ",
            windows[MAX_PLAN_WINDOWS].name,
        )
    try:
        check_plan_windows(zone.key, windows)
    except ProtocolError as exc:
        raise ScheduleError(
            f"{source}: thiết bị sẽ từ chối mọi kế hoạch mang lịch này ({exc}); hãy sửa lịch"
        ) from None


def blackout_dates(data: Mapping[str, Any], source: str) -> frozenset[date]:
    """The `blackout = ["YYYY-MM-DD", ...]` list of a schedule or override table."""
    value = data.get("blackout", [])
    if not isinstance(value, list):
        raise ScheduleError(f'{source}: blackout must be a list of dates such as ["2026-09-02"]', "blackout")
    days = set()
    for entry in value:
        if isinstance(entry, date) and not isinstance(entry, datetime):  # an unquoted TOML date
            days.add(entry)
            continue
        try:
            days.add(date.fromisoformat(str(entry)))
        except ValueError:
            raise ScheduleError(
                f"{source}: blackout date {entry!r} is not a date YYYY-MM-DD", str(entry)
            ) from None
    return frozenset(days)


def upcoming(schedule: Schedule, now: datetime) -> Iterator[WindowOccurrence]:
    """Yield, in order and without end, the occurrences that have not ended at `now` (the open one first)."""
    return _from(schedule, _aware(now))


def occurrences(schedule: Schedule, start_utc: datetime, end_utc: datetime) -> tuple[WindowOccurrence, ...]:
    """The occurrences that overlap [start_utc, end_utc), in order."""
    limit = _aware(end_utc)
    return tuple(takewhile(lambda o: o.start < limit, upcoming(schedule, start_utc)))


def current_or_next(schedule: Schedule, now: datetime) -> WindowOccurrence:
    """The occurrence open at `now`, or else the next one to open."""
    return next(upcoming(schedule, now))


def _from(schedule: Schedule, now: datetime) -> Iterator[WindowOccurrence]:
    # Windows never cross midnight, so nothing from an earlier local day is still open.
    day = now.astimezone(schedule.timezone).date()
    while True:
        for spec in () if day in schedule.blackout else schedule.windows:
            occurrence = _occurrence(schedule.timezone, spec, day)
            if occurrence is not None and occurrence.end > now:
                yield occurrence
        day += timedelta(days=1)


def _occurrence(zone: ZoneInfo, spec: WindowSpec, day: date) -> WindowOccurrence | None:
    start = datetime.combine(day, time.fromisoformat(spec.start), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day, time.fromisoformat(spec.end), tzinfo=zone).astimezone(UTC)
    # A window that a DST jump swallows whole has no occurrence that day.
    return WindowOccurrence(spec.name, day, start, end) if end > start else None


def _seconds(clock: str) -> int:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass an aware datetime (UTC)")
    return moment


def _zone(value: object, source: str) -> ZoneInfo:
    problem = ScheduleError(
        f"{source}: unknown time zone {value!r}; use an IANA name such as 'Asia/Ho_Chi_Minh'", "timezone"
    )
    if not isinstance(value, str):
        raise problem
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise problem from exc


def _window(table: object, index: int, source: str) -> WindowSpec:
    if not isinstance(table, Mapping):
        raise ScheduleError(f"{source}: window #{index} must be a [[window]] table")
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ScheduleError(
            f"{source}: window #{index}: name must be 1–32 letters, digits, '_' or '-', got {name!r}",
            str(name) if name else "[[window]]",
        )
    where = f"{source}: window {name!r}"
    _refuse_unknown(table, _WINDOW_KEYS, where)
    start, end = (_clock(table.get(key), key, where, name) for key in ("start", "end"))
    if end <= start:
        raise ScheduleError(
            f"{where}: end {end} is not after start {start} (windows cannot cross midnight)", (name, "end")
        )
    return WindowSpec(name=name, start=start, end=end)


def _clock(value: object, key: str, where: str, name: str) -> str:
    if value is None:
        raise ScheduleError(f'{where}: missing key "{key}" (local time as "HH:MM" or "HH:MM:SS")', name)
    if isinstance(value, time):  # an unquoted TOML local time such as 05:00:00
        value = value.isoformat()
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match and int(match[1]) < 24 and int(match[2]) < 60 and int(match[3] or 0) < 60:
        return f"{match[1]}:{match[2]}:{match[3] or '00'}"
    raise ScheduleError(
        f'{where}: {key} {value!r} is not a time of day "HH:MM" or "HH:MM:SS"', (name, str(value))
    )


def _refuse_unknown(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in sorted(set(table) - set(known)):
        raise ScheduleError(
            f"{where}: unknown key {key!r}; this version reads only {', '.join(known)}", str(key)
        )
