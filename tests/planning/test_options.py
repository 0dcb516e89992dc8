"""Schedule options (dates, daily, weekdays, windows, start time, repeat, revision) and published pins."""

from dataclasses import replace
from datetime import date, datetime, time

import pytest

from controller.planning import (
    BulletinSchedule,
    Pin,
    PlannedBulletin,
    PlanningInputs,
    PlanningResult,
    PlanningRules,
    ScheduleOptions,
    plan,
    schedule_from_options,
)
from tests.planning.builders import bulletin, device, local

NOV = date(2026, 11, 1)


def _plan(*bulletins: PlannedBulletin, now: datetime, pins: tuple[Pin, ...] = ()) -> PlanningResult:
    return plan(PlanningInputs(bulletins, (device(),), PlanningRules(horizon=4), pins), now)


def _with(bulletin_id: int, schedule: BulletinSchedule, **kwargs: object) -> PlannedBulletin:
    return replace(bulletin(bulletin_id, **kwargs), schedule=schedule)  # type: ignore[arg-type]


def test_daily_options_count_days_from_the_first_day_and_keep_chosen_weekdays() -> None:
    daily = schedule_from_options({"mode": "daily", "days": 7, "weekdays": [0, 2]}, date(2026, 11, 22))
    assert daily.dates == {date(2026, 11, 23), date(2026, 11, 25)}  # 22 Nov 2026 is a Sunday
    dated = schedule_from_options({"mode": "dates", "dates": ["2026-11-23"], "repeat": 2}, NOV)
    assert (dated.dates, dated.repeat, dated.last_day) == ({date(2026, 11, 23)}, 2, date(2026, 11, 23))
    assert schedule_from_options({"mode": "next_window"}, NOV) == BulletinSchedule()


def test_dates_and_windows_give_one_placement_per_matching_occurrence() -> None:
    schedule = BulletinSchedule(
        dates=frozenset({date(2026, 11, 22), date(2026, 11, 23)}), windows=frozenset({"evening"})
    )
    result = _plan(_with(1, schedule), now=local(22, 4))
    assert [(p.window.key, p.planned_start) for p in result.placements] == [
        ("2026-11-22-evening", local(22, 17)),
        ("2026-11-23-evening", local(23, 17)),
    ]
    assert result.deferred == ()


def test_a_start_time_is_the_earliest_start_and_others_fill_around_it() -> None:
    fixed = _with(1, BulletinSchedule(start_time=time(5, 30)), seconds=600)
    result = _plan(fixed, bulletin(2, seconds=600), bulletin(3, seconds=1800), now=local(22, 4))
    starts = {p.bulletin_id: p.planned_start for p in result.placements}
    assert starts[1] == local(22, 5, 30)
    assert starts[2] == local(22, 5)  # before the fixed one: it fits
    assert starts[3] == local(22, 5, 40, 3)  # 30 min do not fit before 05:30; after it, with the gap


def test_a_start_time_outside_every_window_is_never_placed() -> None:
    result = _plan(_with(1, BulletinSchedule(start_time=time(12))), now=local(22, 4))
    assert result.placements == ()
    assert [d.reason for d in result.deferred] == ["beyond_horizon"]


def test_repeat_plays_the_versions_again_back_to_back_with_new_item_ids() -> None:
    repeated = _with(1, BulletinSchedule(repeat=2), seconds=30, languages=("vi", "thai"))
    result = plan(PlanningInputs((repeated,), (device(languages=("thai",)),)), local(22, 4))
    assert [(i.item_id, i.planned_start) for i in result.device("c01").items] == [
        ("b1-2026-11-22-morning-vi", local(22, 5)),
        ("b1-2026-11-22-morning-thai", local(22, 5, 0, 33)),
        ("b1-2026-11-22-morning-vi-2", local(22, 5, 1, 6)),
        ("b1-2026-11-22-morning-thai-2", local(22, 5, 1, 39)),
    ]
    assert result.placements[0].planned_end == local(22, 5, 2, 9)


def test_an_edited_bulletin_gets_new_item_ids() -> None:
    result = _plan(replace(bulletin(1), revision=2), now=local(22, 4))
    assert [i.item_id for i in result.device("c01").items] == ["b1.2-2026-11-22-morning-vi"]


def test_published_items_keep_their_start_while_the_window_is_open() -> None:
    first = _plan(bulletin(1), bulletin(2), now=local(22, 5, 0, 30))
    pins = tuple(Pin("c01", i.item_id, i.planned_start) for i in first.device("c01").items)
    later = _plan(bulletin(1), bulletin(2), now=local(22, 5, 1, 10), pins=pins)
    assert later.device("c01").items == first.device("c01").items
    unpinned = _plan(bulletin(1), bulletin(2), now=local(22, 5, 1, 10))
    assert unpinned.device("c01").items != first.device("c01").items  # the lead would have moved them


def test_a_pin_that_no_longer_fits_is_planned_afresh() -> None:
    pin = Pin("c01", "b1-2026-11-22-morning-vi", local(22, 7, 29, 30))
    result = _plan(bulletin(1), now=local(22, 5), pins=(pin,))
    assert result.placements[0].planned_start == local(22, 5, 1)


@pytest.mark.parametrize(
    "stored",
    [
        {"mode": "next_window"},
        {"mode": "dates", "dates": ["2026-11-23", "2026-11-25"], "repeat": 2, "windows": ["morning"]},
        {"mode": "daily", "days": 7, "start_date": "2026-11-23", "weekdays": [0, 2],
         "start_time": "17:30:00"},
        {"mode": "next_window", "emergency_repeat": 5, "emergency_gap_s": 0, "revision": 2,
         "expires_at": "2026-11-30T05:00:00+00:00"},
    ],
)  # fmt: skip
def test_schedule_options_are_one_typed_shape_stored_as_their_json(stored: dict[str, object]) -> None:
    options = ScheduleOptions.from_json(stored)
    assert options.to_json() == stored
    assert options.resolve(NOV) == schedule_from_options(stored, NOV)


def test_schedule_options_resolve_daily_from_the_first_day_when_no_start_date_is_given() -> None:
    options = ScheduleOptions(mode="daily", days=3, repeat=None)
    assert options.resolve(date(2026, 11, 22)).dates == {
        date(2026, 11, 22),
        date(2026, 11, 23),
        date(2026, 11, 24),
    }
    assert options.resolve(date(2026, 11, 22)).repeat == 1
