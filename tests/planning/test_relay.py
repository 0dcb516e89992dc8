"""Relay slots in the pure planner: at their start time for their duration, before the window's other
items, only on agents that read sources; Tú Lệ's windows 05:00–07:30 and 17:00–19:00."""

from dataclasses import replace
from datetime import date, time, timedelta

from controller.planning import Pin, PlannedBulletin, PlanningInputs, PlanningRules, plan
from controller.planning.model import RelaySource
from controller.planning.options import BulletinSchedule
from protocol import PlanBody, StreamSource
from protocol.sources import reads_sources
from tests.planning.builders import bulletin, device, local

URLS = ("https://vov.example/vov1.m3u8", "http://controller:8000/relay-3?expires=1&sig=ab")


def relay(
    bulletin_id: int,
    at: time,
    minutes: int,
    *,
    dates: frozenset[date] | None = None,
    devices: tuple[str, ...] = ("c01",),
) -> PlannedBulletin:
    return replace(
        bulletin(bulletin_id, priority="priority", devices=devices, seconds=4),
        relay=RelaySource(station="3", urls=URLS, duration=timedelta(minutes=minutes)),
        schedule=BulletinSchedule(dates=dates, start_time=at),
    )


def test_a_relay_slot_plays_at_its_start_for_its_duration_with_its_filler() -> None:
    result = plan(PlanningInputs((relay(5, time(6, 0), 30),), (device(),)), local(22, 4, 50))
    assert result.device("c01").items == ()
    (item,) = result.device("c01").sourced
    assert item.item_id == "b5-2026-11-22-morning-relay"
    assert item.planned_start == item.not_before == local(22, 6)
    assert item.not_after == local(22, 6, 30) and item.window == "morning"
    assert item.source == StreamSource(kind="relay", urls=URLS, station="3", duration_s=1800)
    assert item.asset is not None and item.asset.duration_ms == 4000
    (placement,) = result.placements
    assert (placement.planned_start, placement.planned_end) == (local(22, 6), local(22, 6, 30))
    body = result.device("c01").plan_body(7, local(22, 4, 50))
    assert PlanBody.from_json(body.to_json()) == body  # the wire carries source, duration and filler


def test_other_items_fit_around_the_slot_priority_first() -> None:
    slot = relay(5, time(5, 0), 10)
    normal, urgent = bulletin(1, seconds=60), bulletin(2, priority="priority", seconds=60)
    result = plan(PlanningInputs((normal, urgent, slot), (device(),)), local(22, 4, 50))
    starts = [(i.bulletin_id, i.planned_start) for i in result.device("c01").items]
    assert starts == [(2, local(22, 5, 10, 3)), (1, local(22, 5, 11, 6))]
    assert result.device("c01").sourced[0].planned_start == local(22, 5)


def test_a_published_item_in_the_slots_way_moves() -> None:
    pin = Pin("c01", "b1-2026-11-22-morning-vi", local(22, 6, 0))
    inputs = PlanningInputs((bulletin(1), relay(5, time(6, 0), 30)), (device(),), PlanningRules(), (pin,))
    result = plan(inputs, local(22, 5, 30))
    (item,) = result.device("c01").items
    assert item.planned_start == local(22, 5, 31)  # the first free time, not its old place inside the slot


def test_a_slot_already_running_is_joined_and_one_over_rolls_to_the_next_day() -> None:
    running = plan(PlanningInputs((relay(5, time(6, 0), 30),), (device(),)), local(22, 6, 10))
    assert running.device("c01").sourced[0].planned_start == local(22, 6)
    over = plan(
        PlanningInputs((relay(5, time(6, 0), 30),), (device(),), PlanningRules(horizon=3)), local(22, 6, 40)
    )
    assert over.device("c01").sourced[0].planned_start == local(23, 6)


def test_a_daily_slot_is_placed_on_each_of_its_days() -> None:
    days = frozenset({date(2026, 11, 22), date(2026, 11, 23)})
    slot = relay(5, time(17, 30), 30, dates=days)
    result = plan(PlanningInputs((slot,), (device(),), PlanningRules(horizon=4)), local(22, 4, 0))
    assert [i.planned_start for i in result.device("c01").sourced] == [local(22, 17, 30), local(23, 17, 30)]
    assert len({i.item_id for i in result.device("c01").sourced}) == 2


def test_a_slot_that_does_not_fit_its_window_or_clashes_is_not_placed() -> None:
    past_end = relay(5, time(7, 20), 20)  # would end at 07:40, after the morning window
    clash = replace(relay(6, time(6, 15), 30), approved_at=local(21, 23))
    result = plan(PlanningInputs((relay(4, time(6, 0), 30), clash, past_end), (device(),)), local(22, 4, 50))
    assert [i.bulletin_id for i in result.device("c01").sourced] == [4]
    reasons = {(d.bulletin_id, d.reason) for d in result.deferred}
    assert (6, "window_full") in reasons and (5, "beyond_horizon") in reasons


def test_agents_that_do_not_read_sources_get_no_relay_item() -> None:
    old = replace(device("c02"), reads_sources=False)
    result = plan(
        PlanningInputs((relay(5, time(6, 0), 30, devices=("c01", "c02")),), (device(), old)), local(22, 4, 50)
    )
    assert len(result.device("c01").sourced) == 1
    assert result.device("c02").sourced == () and result.device("c02").items == ()
    assert [(d.device_id, d.reason) for d in result.deferred] == [("c02", "unsupported_source")]


def test_only_agents_from_the_first_version_that_reads_sources_count_as_readers() -> None:
    assert reads_sources("0.1.0") and reads_sources("0.2.3+deb12") and reads_sources(None)
    assert not reads_sources("0.0.9") and not reads_sources("garbage")
