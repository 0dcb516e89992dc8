"""Invariants of the planner on generated communes, schedules (DST zones too), bulletins and clocks."""

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.planning import (
    AudioVersion,
    BulletinSchedule,
    Pin,
    PlannedBulletin,
    PlannedDevice,
    PlanningInputs,
    PlanningResult,
    PlanningRules,
    Schedule,
    occurrences,
    parse_schedule,
    plan,
)
from protocol import PlanBody, PlanItem
from tests.planning.builders import asset

ZONES = ("Asia/Ho_Chi_Minh", "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe")
LANGUAGES = ("vi", "thai", "dao", "mong")
DEVICES = ("c1", "c2", "c3")
RANK = {"priority": 0, "normal": 1}


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    count = draw(st.integers(1, 3))
    points = sorted(
        draw(st.lists(st.integers(0, 24 * 60 - 1), min_size=2 * count, max_size=2 * count, unique=True))
    )
    windows = [
        {
            "name": f"w{i}",
            "start": f"{start // 60:02d}:{start % 60:02d}",
            "end": f"{end // 60:02d}:{end % 60:02d}",
        }
        for i, (start, end) in enumerate(zip(points[::2], points[1::2], strict=True))
    ]
    return parse_schedule({"timezone": draw(st.sampled_from(ZONES)), "window": windows}, "generated")


@st.composite
def bulletins(draw: st.DrawFn, bulletin_id: int, now: datetime) -> PlannedBulletin:
    languages = draw(st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=4, unique=True))
    second = now.replace(microsecond=0)  # the planner works in whole seconds: now up, expiry down
    expires = draw(st.none() | st.integers(-3600, 2 * 86400).map(lambda s: second + timedelta(seconds=s)))
    return PlannedBulletin(
        bulletin_id=bulletin_id,
        priority=draw(st.sampled_from(("normal", "normal", "priority", "emergency"))),
        approved_at=now - timedelta(seconds=draw(st.integers(0, 3 * 86400))),
        device_ids=frozenset(draw(st.lists(st.sampled_from((*DEVICES, "c9")), max_size=4))),
        versions=tuple(
            AudioVersion(lang, asset(f"{bulletin_id}-{lang}", draw(st.integers(1, 2 * 3600))))
            for lang in languages
        ),
        expires_at=expires,
    )


@st.composite
def devices(draw: st.DrawFn, device_id: str, now: datetime) -> PlannedDevice:
    busy = draw(
        st.none()
        | st.integers(-60, 3 * 3600).map(lambda s: now.replace(microsecond=0) + timedelta(seconds=s))
    )
    # Blackout days near `now` (occurrences() skips them, so the window checks cover them too).
    blackout = draw(st.frozensets(st.integers(-1, 2).map(lambda n: now.date() + timedelta(days=n))))
    return PlannedDevice(
        device_id=device_id,
        languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES)))),
        schedule=replace(draw(schedules()), blackout=blackout),
        volume=draw(st.integers(0, 100)),
        busy_until=busy,
    )


@st.composite
def problems(draw: st.DrawFn) -> tuple[PlanningInputs, PlanningInputs, datetime]:
    """Inputs, the same inputs in another order, and `now`."""
    now = draw(
        st.datetimes(
            min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; the value is UTC
            max_value=datetime(2027, 12, 31),  # noqa: DTZ001
            timezones=st.just(UTC),
        )
    )
    ids = draw(st.lists(st.integers(1, 10_000), max_size=10, unique=True))
    items = [draw(bulletins(i, now)) for i in ids]
    machines = [
        draw(devices(d, now)) for d in draw(st.lists(st.sampled_from(DEVICES), min_size=1, unique=True))
    ]
    rules = PlanningRules(
        gap=timedelta(seconds=draw(st.integers(0, 5))),
        lead=timedelta(seconds=draw(st.integers(0, 120))),
        horizon=draw(st.integers(1, 3)),
    )
    shuffled = PlanningInputs(
        tuple(draw(st.permutations(items))), tuple(draw(st.permutations(machines))), rules
    )
    return PlanningInputs(tuple(items), tuple(machines), rules), shuffled, now


def _length(item: PlanItem) -> timedelta:
    return timedelta(milliseconds=item.asset.duration_ms)


def _key(bulletin: PlannedBulletin) -> tuple[Any, ...]:
    return (RANK[bulletin.priority], bulletin.approved_at, bulletin.bulletin_id)


def _items_start_and_end_inside_a_window_of_their_device(
    inputs: PlanningInputs, now: datetime, result: PlanningResult
) -> None:
    for device_plan in result.devices:
        blackout = device_plan.device.schedule.blackout
        for item in device_plan.items:
            assert item.planned_start.astimezone(device_plan.device.schedule.timezone).date() not in blackout
            end = item.planned_start + _length(item)
            assert item.priority != "emergency"
            assert now <= item.not_before == item.planned_start < end <= item.not_after
            windows = occurrences(device_plan.device.schedule, item.planned_start, end)
            assert any(
                w.name == item.window and w.start <= item.planned_start and item.not_after <= w.end
                for w in windows
            )


def _items_on_one_device_never_overlap_and_keep_the_gap(
    inputs: PlanningInputs, now: datetime, result: PlanningResult
) -> None:
    for device_plan in result.devices:
        items = device_plan.items
        assert list(items) == sorted(items, key=lambda i: i.planned_start)
        assert len({i.item_id for i in items}) == len(items)
        for before, after in pairwise(items):
            assert before.planned_start + _length(before) + inputs.rules.gap <= after.planned_start
        if device_plan.device.busy_until is not None:
            assert all(i.planned_start >= device_plan.device.busy_until for i in items)


def _priority_before_normal_within_a_window(
    inputs: PlanningInputs, now: datetime, result: PlanningResult
) -> None:
    by_id = {b.bulletin_id: b for b in inputs.bulletins}
    starts: dict[tuple[str, str], list[tuple[datetime, tuple[Any, ...]]]] = defaultdict(list)
    for placement in result.placements:
        key = _key(by_id[placement.bulletin_id])
        starts[placement.device_id, placement.window.key].append((placement.planned_start, key))
    for placed in starts.values():
        priorities = [start for start, key in placed if key[0] == RANK["priority"]]
        normals = [start for start, key in placed if key[0] == RANK["normal"]]
        assert not priorities or not normals or max(priorities) < min(normals)


def _every_bulletin_is_placed_once_or_deferred_and_overflow_truly_did_not_fit(
    inputs: PlanningInputs, now: datetime, result: PlanningResult
) -> None:
    rules, known = inputs.rules, {d.device_id for d in inputs.devices}
    placed = {(p.bulletin_id, p.device_id): p for p in result.placements}
    assert len(placed) == len(result.placements)
    final = {(d.bulletin_id, d.device_id): d.reason for d in result.deferred if d.reason != "window_full"}
    sent = {(i.bulletin_id, device_id) for device_id, items in result.emergencies.items() for i in items}
    for bulletin in inputs.bulletins:
        for device_id in bulletin.device_ids:
            pair = (bulletin.bulletin_id, device_id)
            if device_id not in known:
                assert final[pair] == "unknown_device"
            elif bulletin.priority == "emergency":
                assert pair not in placed
                assert (pair in final) != (pair in sent)
            else:
                assert (pair in placed) != (pair in final), pair
    by_id = {b.bulletin_id: b for b in inputs.bulletins}
    for deferral in result.deferred:
        if deferral.reason not in ("window_full", "expired") or deferral.window is None:
            continue
        device = result.device(deferral.device_id).device
        window, bulletin = deferral.window, by_id[deferral.bulletin_id]
        placement = placed.get((bulletin.bulletin_id, device.device_id))
        assert placement is None or placement.window.start > window.start
        ahead = [
            p.planned_end
            for p in result.placements
            if p.device_id == device.device_id
            and p.window == window
            and _key(by_id[p.bulletin_id]) < _key(bulletin)
        ]
        cursor = (
            max(ahead) + rules.gap
            if ahead
            else max(window.start, result.now + rules.lead, device.busy_until or result.now)
        )
        versions = bulletin.versions_for(device.languages)
        length = sum((timedelta(milliseconds=v.asset.duration_ms) for v in versions), timedelta())
        end = cursor + length + rules.gap * (len(versions) - 1)
        limit = window.end if deferral.reason == "window_full" else bulletin.expires_at
        assert limit is not None and end > limit


def _same_plan_in_any_order_and_valid_on_the_wire(
    inputs: PlanningInputs, now: datetime, result: PlanningResult, shuffled: PlanningInputs
) -> None:
    assert result == plan(inputs, now) == plan(shuffled, now)
    for body in result.plan_bodies(lambda device_id: 7).values():
        assert PlanBody.from_json(body.to_json()) == body
    for items in result.emergencies.values():
        assert all(
            i.priority == "emergency" and now <= i.not_before == result.now < i.not_after for i in items
        )


# One generated problem feeds every check: generating it costs far more than planning it.
@settings(max_examples=150, deadline=None)
@given(problems())
def test_planner_invariants(problem: tuple[PlanningInputs, PlanningInputs, datetime]) -> None:
    inputs, shuffled, now = problem
    result = plan(inputs, now)
    _items_start_and_end_inside_a_window_of_their_device(inputs, now, result)
    _items_on_one_device_never_overlap_and_keep_the_gap(inputs, now, result)
    _priority_before_normal_within_a_window(inputs, now, result)
    _every_bulletin_is_placed_once_or_deferred_and_overflow_truly_did_not_fit(inputs, now, result)
    _same_plan_in_any_order_and_valid_on_the_wire(inputs, now, result, shuffled)


@st.composite
def schedule_options(draw: st.DrawFn, now: datetime) -> BulletinSchedule:
    today = now.date()
    dates = draw(
        st.none() | st.frozensets(st.integers(-1, 3).map(lambda n: today + timedelta(days=n)), max_size=3)
    )
    return BulletinSchedule(
        dates=dates,
        windows=draw(st.frozensets(st.sampled_from(("w0", "w1", "w2")), max_size=2)),
        start_time=draw(st.none() | st.times().map(lambda t: t.replace(microsecond=0))),
        repeat=draw(st.integers(1, 3)),
    )


@settings(max_examples=100, deadline=None)
@given(problems(), st.data())
def test_schedule_options_and_pins_keep_the_invariants(
    problem: tuple[PlanningInputs, PlanningInputs, datetime], data: st.DataObject
) -> None:
    base, _, now = problem
    options = {b.bulletin_id: data.draw(schedule_options(now)) for b in base.bulletins}
    inputs = replace(
        base, bulletins=tuple(replace(b, schedule=options[b.bulletin_id]) for b in base.bulletins)
    )
    first = plan(inputs, now)
    _items_start_and_end_inside_a_window_of_their_device(inputs, now, first)
    _items_on_one_device_never_overlap_and_keep_the_gap(inputs, now, first)
    by_id = {b.bulletin_id: b for b in inputs.bulletins}
    for placement in first.placements:
        bulletin, window = by_id[placement.bulletin_id], placement.window
        assert bulletin.schedule.allows(window.name, window.local_date)
        zone = first.device(placement.device_id).device.schedule.timezone
        if bulletin.schedule.start_time is not None:
            assert placement.planned_start.astimezone(zone).time() >= bulletin.schedule.start_time
        versions = bulletin.versions_for(first.device(placement.device_id).device.languages)
        assert len(placement.item_ids) == len(versions) * bulletin.schedule.repeat
    # Replanning later with the published items as pins keeps every placement whose window is still open
    # (or opens within the lead time).
    later = now + timedelta(seconds=data.draw(st.integers(0, 4 * 3600)))
    pins = tuple(Pin(p.device.device_id, i.item_id, i.planned_start) for p in first.devices for i in p.items)
    second = plan(replace(inputs, pins=pins), later)
    _items_on_one_device_never_overlap_and_keep_the_gap(inputs, later, second)
    kept = {(p.device_id, p.item_ids, p.planned_start) for p in second.placements}
    for placement in first.placements:
        if placement.window.end > second.now and placement.window.start < second.now + inputs.rules.lead:
            assert (placement.device_id, placement.item_ids, placement.planned_start) in kept, placement
    assert second == plan(replace(inputs, pins=tuple(reversed(pins))), later)
