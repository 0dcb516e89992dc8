"""The OTA rollout's wave logic, with time as an input (controller/rollout.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from controller.rollout import DeviceHealth, Rollout, advance, plan_waves, start

T0 = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
DEADLINE = timedelta(minutes=15)
FLEET = [f"d{n:02}" for n in range(10)]


def _new(at: datetime) -> DeviceHealth:
    return DeviceHealth(agent_version="0.5.0-1", online=True, last_tone_at=at)


def _old() -> DeviceHealth:
    return DeviceHealth(agent_version="0.4.0-1", online=True, last_tone_at=T0 - timedelta(days=1))


def test_waves_are_the_canary_then_a_share_then_the_rest() -> None:
    assert plan_waves(FLEET, ["d07"], 25) == (
        ("d07",),
        ("d00", "d01", "d02"),  # 25 % of nine, rounded up
        ("d03", "d04", "d05", "d06", "d08", "d09"),
    )
    assert plan_waves(["a"], [], 25) == (("a",),)
    assert plan_waves(["a", "b"], ["a", "b"], 100) == (("a", "b"),)
    with pytest.raises(ValueError, match="not in the fleet"):
        plan_waves(FLEET, ["zz"], 25)
    with pytest.raises(ValueError, match="between 1 and 100"):
        plan_waves(FLEET, [], 0)


def test_each_wave_starts_only_after_the_previous_one_is_healthy() -> None:
    waves = plan_waves(FLEET, ["d07"], 25)
    step = start("0.5.0-1", waves, T0, DEADLINE)
    assert step.send_update == ("d07",)
    fleet = dict.fromkeys(FLEET, _old())

    # the canary restarted on the new version but has not played a tone: ask for one, do not move on
    fleet["d07"] = DeviceHealth(agent_version="0.5.0-1", online=True, last_tone_at=None)
    step = advance(step.rollout, fleet, T0 + timedelta(minutes=2))
    assert (step.rollout.wave, step.send_update, step.send_tone) == (0, (), ("d07",))

    fleet["d07"] = _new(T0 + timedelta(minutes=3))
    t1 = T0 + timedelta(minutes=4)
    step = advance(step.rollout, fleet, t1)
    assert (step.rollout.wave, step.rollout.wave_started_at, step.send_update) == (1, t1, waves[1])

    # a tone played before this wave began does not count for it
    for device in waves[1]:
        fleet[device] = _new(t1 - timedelta(seconds=1))
    assert advance(step.rollout, fleet, t1 + timedelta(minutes=1)).rollout.wave == 1
    for device in waves[1]:
        fleet[device] = _new(t1 + timedelta(minutes=1))
    step = advance(step.rollout, fleet, t1 + timedelta(minutes=2))
    assert step.send_update == waves[2]
    for device in waves[2]:
        fleet[device] = _new(t1 + timedelta(minutes=3))
    step = advance(step.rollout, fleet, t1 + timedelta(minutes=4))
    assert (step.rollout.state, step.send_update) == ("done", ())


@pytest.mark.parametrize(
    "canary",
    [
        _old(),  # never reported the new version (the helper rolled back)
        DeviceHealth(agent_version="0.5.0-1", online=False, last_tone_at=T0 + timedelta(minutes=1)),
        DeviceHealth(agent_version="0.5.0-1", online=True, last_tone_at=None),  # silent speaker
    ],
)
def test_a_wave_not_healthy_by_its_deadline_stops_the_rollout(canary: DeviceHealth) -> None:
    step = start("0.5.0-1", plan_waves(FLEET, ["d07"], 25), T0, DEADLINE)
    fleet = {**dict.fromkeys(FLEET, _old()), "d07": canary}
    assert advance(step.rollout, fleet, T0 + DEADLINE).rollout.state == "running"
    failed = advance(step.rollout, fleet, T0 + DEADLINE + timedelta(seconds=1))
    assert (failed.rollout.state, failed.rollout.failed_devices, failed.send_update) == (
        "failed",
        ("d07",),
        (),
    )
    # a stopped rollout sends nothing more, even if the device recovers later
    fleet["d07"] = _new(T0 + DEADLINE + timedelta(minutes=1))
    again = advance(failed.rollout, fleet, T0 + DEADLINE + timedelta(minutes=2))
    assert (again.rollout, again.send_update, again.send_tone) == (failed.rollout, (), ())


def test_a_device_missing_from_the_fleet_counts_as_unhealthy() -> None:
    rollout = Rollout("0.5.0-1", (("gone",),), 0, T0, DEADLINE)
    assert advance(rollout, {}, T0 + DEADLINE * 2).rollout.failed_devices == ("gone",)
