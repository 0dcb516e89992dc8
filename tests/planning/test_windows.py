"""Schedule files and window occurrences: errors a person can act on, and correct UTC instants."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from controller.planning import (
    Schedule,
    ScheduleError,
    WindowOccurrence,
    current_or_next,
    load_schedule,
    occurrences,
    parse_schedule,
    upcoming,
)
from protocol import WindowSpec
from tests.planning.builders import DEFAULT, HANOI, local


def _doc(*windows: object, timezone: object = "Asia/Ho_Chi_Minh") -> dict[str, Any]:
    return {"timezone": timezone, "window": list(windows)}


MORNING = {"name": "morning", "start": "05:00", "end": "07:30"}
EVENING = {"name": "evening", "start": "17:00", "end": "19:00"}


def test_default_schedule_is_the_contract() -> None:
    assert DEFAULT.timezone == HANOI
    assert DEFAULT.windows == (
        WindowSpec("morning", "05:00:00", "07:30:00"),
        WindowSpec("evening", "17:00:00", "19:00:00"),
    )
    assert DEFAULT.longest == timedelta(hours=2, minutes=30)


def test_windows_are_sorted_and_accept_seconds_and_toml_times(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'timezone = "UTC"\n'
        '[[window]]\nname = "late"\nstart = "20:00:30"\nend = 21:00:00\n'
        '[[window]]\nname = "early"\nstart = 06:00:00\nend = "06:10"\n',
        encoding="utf-8",
    )
    schedule = load_schedule(path)
    assert schedule.windows == (
        WindowSpec("early", "06:00:00", "06:10:00"),
        WindowSpec("late", "20:00:30", "21:00:00"),
    )
    assert schedule.source == str(path)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"window": [MORNING]}, 'test.toml: missing key "timezone"'),
        (_doc(MORNING, timezone="Asia/Hanoi_City"), "test.toml: unknown time zone 'Asia/Hanoi_City'"),
        (_doc(MORNING, timezone=7), "test.toml: unknown time zone 7"),
        (_doc(MORNING, timezone="../etc/passwd"), "unknown time zone '../etc/passwd'"),
        (_doc(), "test.toml: no [[window]] tables"),
        ({"timezone": "UTC", "window": "05:00"}, "test.toml: no [[window]] tables"),
        (
            _doc({**MORNING, "start": "5:00"}),
            "test.toml: window 'morning': start '5:00' is not a time of day",
        ),
        (_doc({**MORNING, "end": "24:00"}), "test.toml: window 'morning': end '24:00' is not a time of day"),
        (_doc({**MORNING, "end": "07:60"}), "window 'morning': end '07:60' is not a time of day"),
        (_doc({**MORNING, "end": "07:30:00.5"}), "window 'morning': end '07:30:00.5' is not a time of day"),
        (_doc({**MORNING, "start": 5}), "window 'morning': start 5 is not a time of day"),
        (_doc({"name": "morning", "end": "07:30"}), "test.toml: window 'morning': missing key \"start\""),
        (_doc({"name": "morning", "start": "05:00"}), "test.toml: window 'morning': missing key \"end\""),
        (_doc({"start": "05:00", "end": "07:30"}), "test.toml: window #1: name must be 1–32 letters"),
        (_doc(MORNING, {**EVENING, "name": "buổi tối!"}), "test.toml: window #2: name must be"),
        (_doc({**MORNING, "end": "05:00"}), "window 'morning': end 05:00:00 is not after start 05:00:00"),
        (_doc({**MORNING, "start": "22:00", "end": "01:00"}), "end 01:00:00 is not after start 22:00:00"),
        (
            _doc(MORNING, {"name": "noon", "start": "07:00", "end": "08:00"}),
            "test.toml: window 'noon' (07:00:00–08:00:00) overlaps window 'morning' (05:00:00–07:30:00)",
        ),
        (
            _doc(MORNING, {**EVENING, "name": "morning"}),
            "test.toml: window 'morning' is defined more than once",
        ),
        ({**_doc(MORNING), "holidays": ["2026-12-31"]}, "test.toml: unknown key 'holidays'"),
        (_doc({**MORNING, "village": "Bản Lìm"}), "test.toml: window 'morning': unknown key 'village'"),
        (_doc("05:00-07:30"), "test.toml: window #1 must be a [[window]] table"),
    ],
)
def test_schedule_errors_name_the_file_the_window_and_the_problem(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(doc, "test.toml")
    assert message in str(caught.value)


def test_touching_windows_do_not_overlap() -> None:
    schedule = parse_schedule(_doc(MORNING, {"name": "later", "start": "07:30", "end": "08:00"}), "t")
    assert [w.name for w in schedule.windows] == ["morning", "later"]


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ScheduleError, match=r"missing\.toml: cannot read the schedule file"):
        load_schedule(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text('timezone = "UTC\n', encoding="utf-8")
    with pytest.raises(ScheduleError, match=r"broken\.toml: not valid TOML"):
        load_schedule(broken)
    bad = tmp_path / "bad.toml"
    bad.write_text('timezone = "UTC"\n[[window]]\nname = "x"\nstart = "9"\nend = "10:00"\n', encoding="utf-8")
    with pytest.raises(ScheduleError, match=r"bad\.toml: window 'x': start '9' is not a time of day"):
        load_schedule(bad)


def test_occurrences_cross_midnight_in_utc_and_span_days() -> None:
    found = occurrences(DEFAULT, local(22, 20), local(24, 6))
    assert [o.key for o in found] == ["2026-11-23-morning", "2026-11-23-evening", "2026-11-24-morning"]
    first = found[0]
    # 05:00 in Hanoi (UTC+7) is 22:00 UTC the day before.
    assert first.start == datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    assert first.end == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    assert all(o.start.tzinfo is UTC and o.end.tzinfo is UTC for o in found)


def test_occurrences_include_windows_that_only_partly_overlap() -> None:
    found = occurrences(DEFAULT, local(22, 7), local(22, 17, 0, 1))
    assert [o.key for o in found] == ["2026-11-22-morning", "2026-11-22-evening"]
    assert occurrences(DEFAULT, local(22, 7, 30), local(22, 17)) == ()


def test_current_or_next() -> None:
    assert current_or_next(DEFAULT, local(22, 4, 50)).key == "2026-11-22-morning"
    assert current_or_next(DEFAULT, local(22, 5)).key == "2026-11-22-morning"
    assert current_or_next(DEFAULT, local(22, 7, 29, 59)).key == "2026-11-22-morning"
    assert current_or_next(DEFAULT, local(22, 7, 30)).key == "2026-11-22-evening"
    assert current_or_next(DEFAULT, local(22, 19)).key == "2026-11-23-morning"
    # The last day of a month and of a year roll over like any other.
    assert current_or_next(DEFAULT, local(30, 20)).key == "2026-12-01-morning"
    assert current_or_next(DEFAULT, datetime(2026, 12, 31, 13, tzinfo=UTC)).key == "2027-01-01-morning"


def test_occurrence_contains_is_half_open() -> None:
    window = current_or_next(DEFAULT, local(22, 5))
    assert window.contains(local(22, 5)) and window.contains(local(22, 7, 29, 59))
    assert not window.contains(local(22, 7, 30))


def _days(schedule: Schedule, start: datetime, days: int) -> dict[str, WindowOccurrence]:
    return {o.key: o for o in occurrences(schedule, start, start + timedelta(days=days))}


def test_dst_days_use_real_instants() -> None:
    berlin = parse_schedule(
        _doc({"name": "night", "start": "01:00", "end": "04:00"}, timezone="Europe/Berlin"), "t"
    )
    spring = _days(berlin, datetime(2026, 3, 28, 12, tzinfo=UTC), 2)["2026-03-29-night"]
    assert (spring.start, spring.end) == (
        datetime(2026, 3, 29, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 2, tzinfo=UTC),
    )
    autumn = _days(berlin, datetime(2026, 10, 24, 12, tzinfo=UTC), 2)["2026-10-25-night"]
    assert autumn.end - autumn.start == timedelta(hours=4)


def test_a_window_the_dst_jump_swallows_has_no_occurrence_that_day() -> None:
    # On 2026-03-08 New York jumps from 02:00 to 03:00: 02:30–03:00 local never happens.
    new_york = parse_schedule(
        _doc({"name": "w", "start": "02:30", "end": "03:00"}, timezone="America/New_York"), "t"
    )
    assert list(_days(new_york, datetime(2026, 3, 7, 12, tzinfo=UTC), 3)) == ["2026-03-09-w", "2026-03-10-w"]


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 22, 5)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="naive datetime"):
        current_or_next(DEFAULT, naive)
    with pytest.raises(ValueError, match="naive datetime"):
        occurrences(DEFAULT, local(22, 5), naive)
    with pytest.raises(ValueError, match="naive datetime"):
        upcoming(DEFAULT, naive)
