"""The planner's rules on explicit dates: Tú Lệ's windows 05:00–07:30 and 17:00–19:00, Asia/Ho_Chi_Minh."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from controller.planning import (
    AudioVersion,
    Deferred,
    PlannedBulletin,
    PlannedDevice,
    PlanningInputs,
    PlanningResult,
    PlanningRules,
    current_or_next,
    plan,
)
from protocol import PlanBody
from tests.planning.builders import DEFAULT, asset, bulletin, device, local

GAP = timedelta(seconds=3)


def _plan(
    *bulletins: PlannedBulletin, now: datetime, devices: tuple[PlannedDevice, ...] = (), horizon: int = 2
) -> PlanningResult:
    inputs = PlanningInputs(bulletins, devices or (device(),), PlanningRules(horizon=horizon))
    return plan(inputs, now)


def _starts(result: PlanningResult, device_id: str = "c01") -> list[tuple[str, datetime]]:
    return [(i.item_id, i.planned_start) for i in result.device(device_id).items]


def test_before_the_morning_window_the_bulletin_opens_it() -> None:
    result = _plan(bulletin(1), now=local(22, 4, 50))
    (item,) = result.device("c01").items
    assert item.item_id == "b1-2026-11-22-morning-vi"
    assert item.planned_start == item.not_before == local(22, 5)
    assert item.not_after == local(22, 7, 30)
    assert item.planned_start.tzinfo is UTC
    assert (item.window, item.priority, item.repeat, item.volume) == ("morning", "normal", 1, None)
    assert result.placements[0].window == current_or_next(DEFAULT, local(22, 5))
    assert result.placements[0].planned_end == local(22, 5, 1)
    assert result.deferred == ()


def test_an_open_window_with_room_takes_the_bulletin_after_now_and_the_lead_time() -> None:
    result = _plan(bulletin(1), now=local(22, 5, 10))
    assert _starts(result) == [("b1-2026-11-22-morning-vi", local(22, 5, 11))]


def test_a_window_about_to_close_is_skipped_without_a_deferral() -> None:
    result = _plan(bulletin(1), now=local(22, 7, 29, 30))
    assert _starts(result) == [("b1-2026-11-22-evening-vi", local(22, 17))]
    assert result.deferred == ()


def test_what_does_not_fit_rolls_to_the_next_window_and_is_reported() -> None:
    hour = 3600
    result = _plan(*(bulletin(i, seconds=hour) for i in (1, 2, 3)), now=local(22, 4))
    assert _starts(result) == [
        ("b1-2026-11-22-morning-vi", local(22, 5)),
        ("b2-2026-11-22-morning-vi", local(22, 6, 0, 3)),
        ("b3-2026-11-22-evening-vi", local(22, 17)),
    ]
    morning = current_or_next(DEFAULT, local(22, 5))
    assert result.deferred == (Deferred(3, "c01", "window_full", morning),)


def test_a_shorter_bulletin_fills_the_room_a_longer_one_left() -> None:
    result = _plan(
        bulletin(1, seconds=7200), bulletin(2, seconds=3600), bulletin(3, seconds=600), now=local(22, 4)
    )
    assert [p.bulletin_id for p in result.placements] == [1, 3, 2]
    assert [p.window.name for p in result.placements] == ["morning", "morning", "evening"]


def test_priority_goes_before_normal_then_approval_time_then_id() -> None:
    late_priority = bulletin(1, priority="priority", approved_at=local(21, 20))
    early_normal = bulletin(2, approved_at=local(21, 8))
    same_time = [bulletin(i, approved_at=local(21, 9)) for i in (4, 3)]
    result = _plan(early_normal, *same_time, late_priority, now=local(22, 4))
    assert [p.bulletin_id for p in result.placements] == [1, 2, 3, 4]
    starts = [p.planned_start for p in result.placements]
    assert starts[1] == starts[0] + timedelta(seconds=60) + GAP


def test_priority_from_above_goes_ahead_of_the_communes_own_unless_it_yields_there() -> None:
    own = bulletin(1, priority="priority", approved_at=local(21, 8), devices=("c01", "c02"))
    from_province = replace(
        bulletin(2, priority="priority", approved_at=local(21, 20), devices=("c01", "c02")),
        level=0,
        yields_on=frozenset({"c02"}),
    )
    normal = bulletin(3, approved_at=local(21, 7), devices=("c01", "c02"))
    result = _plan(own, from_province, normal, now=local(22, 4), devices=(device("c01"), device("c02")))
    order = {dev: [p.bulletin_id for p in result.placements if p.device_id == dev] for dev in ("c01", "c02")}
    assert order == {"c01": [2, 1, 3], "c02": [1, 2, 3]}


def test_language_versions_play_back_to_back_vietnamese_first() -> None:
    multi = bulletin(7, languages=("thai", "mong", "vi", "dao"), seconds=30)
    result = _plan(multi, now=local(22, 4), devices=(device(languages={"vi", "thai", "dao"}),))
    assert _starts(result) == [
        ("b7-2026-11-22-morning-vi", local(22, 5)),
        ("b7-2026-11-22-morning-thai", local(22, 5, 0, 33)),
        ("b7-2026-11-22-morning-dao", local(22, 5, 1, 6)),
    ]
    assert result.placements[0].item_ids == tuple(i for i, _ in _starts(result))
    assert result.placements[0].planned_end == local(22, 5, 1, 36)


def test_each_device_gets_only_its_languages() -> None:
    both = bulletin(1, languages=("vi", "thai"), devices=("c01", "c02"))
    devices = (device("c01", languages={"vi"}), device("c02", languages={"vi", "thai"}))
    result = _plan(both, now=local(22, 4), devices=devices)
    assert [i.item_id for i in result.device("c01").items] == ["b1-2026-11-22-morning-vi"]
    assert [i.item_id for i in result.device("c02").items] == [
        "b1-2026-11-22-morning-vi",
        "b1-2026-11-22-morning-thai",
    ]


def test_a_bulletin_with_no_version_the_device_plays_is_reported() -> None:
    result = _plan(bulletin(1, languages=("mong",)), now=local(22, 4))
    assert result.device("c01").items == ()
    assert result.deferred == (Deferred(1, "c01", "no_version"),)


def test_expiry_before_the_next_window_is_reported_and_not_planned() -> None:
    result = _plan(bulletin(1, expires_at=local(22, 12)), now=local(22, 8))
    evening = current_or_next(DEFAULT, local(22, 8))
    assert result.device("c01").items == ()
    assert result.deferred == (Deferred(1, "c01", "expired", evening),)


def test_expiry_bounds_not_after_and_the_whole_bulletin_must_end_by_it() -> None:
    result = _plan(
        bulletin(1, seconds=1200),
        bulletin(2, seconds=600, expires_at=local(22, 5, 40)),
        bulletin(3, seconds=600, expires_at=local(22, 5, 30)),
        now=local(22, 4),
    )
    (first, second) = result.device("c01").items
    assert first.not_after == local(22, 7, 30)
    assert second.bulletin_id == 2 and second.not_after == local(22, 5, 40)
    assert second.planned_start + timedelta(seconds=600) <= second.not_after
    assert Deferred(3, "c01", "expired", current_or_next(DEFAULT, local(22, 5))) in result.deferred


def test_emergencies_are_returned_for_play_now_not_put_in_windows() -> None:
    now = local(22, 12, 15)
    alarm = bulletin(9, priority="emergency", languages=("vi", "thai"), devices=("c01", "c02"))
    devices = (device("c01", languages={"vi", "thai"}), device("c02"))
    result = _plan(alarm, bulletin(1, devices=("c01", "c02")), now=now, devices=devices)
    assert {k: [i.item_id for i in v] for k, v in result.emergencies.items()} == {
        "c01": ["b9-emergency-vi", "b9-emergency-thai"],
        "c02": ["b9-emergency-vi"],
    }
    item = result.emergencies["c01"][0]
    assert (item.not_before, item.planned_start, item.not_after) == (now, now, now + timedelta(hours=3))
    assert (item.priority, item.window) == ("emergency", None)
    assert all(i.priority != "emergency" for p in result.devices for i in p.items)
    assert [p.bulletin_id for p in result.placements] == [1, 1]


def test_a_drill_volume_goes_on_every_item_of_its_emergency() -> None:
    drill = replace(bulletin(9, priority="emergency", languages=("vi", "thai")), volume=35)
    result = _plan(drill, bulletin(1), now=local(22, 12, 15), devices=(device("c01", languages={"thai"}),))
    assert [i.volume for i in result.emergencies["c01"]] == [35, 35]
    assert [i.volume for p in result.devices for i in p.items] == [None]  # others: the device's own
    with pytest.raises(ValueError, match="volume"):
        replace(drill, volume=101)


def test_an_expired_emergency_is_not_sent_and_expiry_bounds_the_others() -> None:
    now = local(22, 12)
    result = _plan(
        bulletin(8, priority="emergency", expires_at=local(22, 11)),
        bulletin(9, priority="emergency", expires_at=local(22, 13)),
        now=now,
    )
    assert [i.not_after for i in result.emergencies["c01"]] == [local(22, 13)]
    assert result.deferred == (Deferred(8, "c01", "expired"),)


def test_the_horizon_limits_how_many_windows_are_planned() -> None:
    result = _plan(*(bulletin(i, seconds=5400) for i in (1, 2, 3)), now=local(22, 4), horizon=2)
    assert [p.window.key for p in result.placements] == ["2026-11-22-morning", "2026-11-22-evening"]
    assert result.deferred[-1] == Deferred(3, "c01", "beyond_horizon")
    wider = _plan(*(bulletin(i, seconds=5400) for i in (1, 2, 3)), now=local(22, 4), horizon=3)
    assert wider.placements[-1].window.key == "2026-11-23-morning"


def test_a_bulletin_longer_than_any_window_is_reported_once() -> None:
    result = _plan(bulletin(1, seconds=3 * 3600), now=local(22, 4))
    assert result.deferred == (Deferred(1, "c01", "too_long"),)


def test_unknown_devices_are_reported() -> None:
    result = _plan(bulletin(1, devices=("c01", "c99")), now=local(22, 4))
    assert Deferred(1, "c99", "unknown_device") in result.deferred
    assert len(result.device("c01").items) == 1
    with pytest.raises(KeyError):
        result.device("c99")


def test_nothing_starts_before_the_device_is_free() -> None:
    result = _plan(bulletin(1), now=local(22, 5), devices=(device(busy_until=local(22, 5, 20)),))
    assert _starts(result) == [("b1-2026-11-22-morning-vi", local(22, 5, 20))]


def test_same_input_same_plan_whatever_the_input_order() -> None:
    bulletins = [bulletin(i, seconds=900 + 97 * i, devices=("c01", "c02", "c03")) for i in range(1, 15)]
    devices = [device(f"c0{i}", languages={"vi", "thai"}) for i in (1, 2, 3)]
    first = plan(PlanningInputs(tuple(bulletins), tuple(devices)), local(22, 5, 30))
    again = plan(PlanningInputs(tuple(reversed(bulletins)), tuple(reversed(devices))), local(22, 5, 30))
    assert first == again
    assert [p.device.device_id for p in first.devices] == ["c01", "c02", "c03"]


def test_plan_bodies_are_valid_protocol_messages() -> None:
    result = _plan(
        bulletin(1, languages=("vi", "thai")), now=local(22, 4), devices=(device(languages={"thai"}),)
    )
    bodies = result.plan_bodies(lambda device_id: 42)
    body = bodies["c01"]
    assert PlanBody.from_json(body.to_json()) == body
    assert (body.version, body.generated_at, body.timezone, body.volume) == (
        42,
        local(22, 4),
        "Asia/Ho_Chi_Minh",
        80,
    )
    assert body.windows == DEFAULT.windows
    assert [i.item_id for i in body.items] == ["b1-2026-11-22-morning-vi", "b1-2026-11-22-morning-thai"]


def test_inputs_are_checked_at_the_edge() -> None:
    with pytest.raises(ValueError, match="naive now"):
        plan(PlanningInputs((), ()), datetime(2026, 11, 22, 5))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="repeated: 1"):
        PlanningInputs((bulletin(1), bulletin(1)), ())
    with pytest.raises(ValueError, match="repeated: c01"):
        PlanningInputs((), (device(), device()))
    with pytest.raises(ValueError, match="one per language"):
        bulletin(1, languages=("vi", "vi"))
    with pytest.raises(ValueError, match="naive datetime"):
        replace(bulletin(1), expires_at=datetime(2026, 11, 22, 5))  # noqa: DTZ001
    with pytest.raises(ValueError, match="language code"):
        AudioVersion("Tiếng Thái", asset("x", 1))
    with pytest.raises(ValueError, match="volume 0–100"):
        replace(device(), volume=101)
    with pytest.raises(ValueError, match="horizon"):
        PlanningRules(horizon=0)


def test_times_are_whole_seconds_so_they_survive_the_wire() -> None:
    result = _plan(
        bulletin(1, expires_at=local(22, 7, 0, 0) + timedelta(microseconds=900)),
        now=local(22, 5, 10) + timedelta(microseconds=250),
    )
    (item,) = result.device("c01").items
    assert result.now == local(22, 5, 10, 1)
    assert item.planned_start == local(22, 5, 11, 1)
    assert item.not_after == local(22, 7)
