"""Stored rollouts on SQLite and PostgreSQL: waves from the registry, one at a time, health from what the
agents reported through ingest, outcomes per device, cancelling (controller.services.rollouts)."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from controller import rollout
from controller.services import record_event, record_status, rollouts
from controller.services.errors import NotFound
from protocol import Event, Status
from tests.services.conftest import T0, World

SHA = "a" * 64
DEADLINE = timedelta(minutes=20)


def _start(session: Session, canary: list[str], share: int = 50) -> rollouts.RolloutView:
    return rollouts.start_rollout(
        session, T0, version="0.2.0", sha256=SHA, canary=canary, share_percent=share, deadline=DEADLINE,
        actor="root",
    )  # fmt: skip


def _report(session: Session, device: str, version: str, tone_seq: int | None = None) -> None:
    """What an agent sends: a birth with its version, then (optionally) a finished test tone."""
    record_status(session, device, Status(state="online", bdseq=1, boot_id="b1", version=version), T0)
    if tone_seq is not None:
        at = T0 + timedelta(minutes=1)
        started = Event(seq=tone_seq, type="started", at=at, boot_id="b1", item_id=f"test-tone-{tone_seq}")
        record_event(session, device, started, at)
        done = Event(seq=tone_seq + 1, type="finished", at=at, boot_id="b1", item_id=f"test-tone-{tone_seq}")
        record_event(session, device, done, at + timedelta(seconds=3))


def test_waves_come_from_the_registry_and_only_one_rollout_runs(session: Session, world: World) -> None:
    view = _start(session, ["tl-c03"])
    assert view.waves == (("tl-c03",), ("tl-c01",), ("tl-c02",))
    assert view.state == "running" and set(view.outcomes.values()) == {"waiting"}
    with pytest.raises(rollouts.RolloutRunning, match="loaxa update cancel"):
        _start(session, [])
    rollouts.cancel_rollout(session, view.id, T0, actor="root")
    with pytest.raises(rollouts.RolloutNotRunning):
        rollouts.cancel_rollout(session, view.id, T0, actor="root")
    with pytest.raises(NotFound):
        rollouts.cancel_rollout(session, view.id + 1, T0, actor="root")
    with pytest.raises(rollouts.BadRollout, match="tl-c99"):
        _start(session, ["tl-c99"])
    with pytest.raises(rollouts.BadRollout, match="từ 1 đến 100"):
        _start(session, [], share=0)
    assert _start(session, []).waves == (("tl-c01", "tl-c02"), ("tl-c03",))


def test_health_is_the_reported_version_and_the_last_finished_test_tone(
    session: Session, world: World
) -> None:
    assert rollouts.version_counts(session) == {"unknown": 3}
    _report(session, "tl-c01", "0.2.0", tone_seq=10)
    _report(session, "tl-c02", "0.1.0")
    health = rollouts.fleet_health(session)
    assert health["tl-c01"] == rollout.DeviceHealth("0.2.0", True, T0 + timedelta(minutes=1))
    assert health["tl-c02"] == rollout.DeviceHealth("0.1.0", True, None)
    assert health["tl-c03"] == rollout.DeviceHealth(None, False, None)
    assert rollouts.version_counts(session) == {"0.1.0": 1, "0.2.0": 1, "unknown": 1}


def test_outcomes_follow_the_devices_and_a_cancelled_rollout_is_left_alone(
    session: Session, world: World
) -> None:
    view = _start(session, ["tl-c01"])
    rollouts.mark_sent(session, view.id, ["tl-c01"], "sent", T0)
    _report(session, "tl-c01", "0.2.0")  # restarted on the new version, no tone yet
    fleet = rollouts.fleet_health(session)
    looked_at = rollouts.pure(view)
    step = rollout.advance(looked_at, fleet, T0 + timedelta(minutes=1))
    saved = rollouts.save_step(
        session, view.id, looked_at=looked_at, step=step, fleet=fleet, now=T0 + timedelta(minutes=1)
    )
    assert saved is not None and saved.outcomes["tl-c01"] == "updated" and step.send_tone == ("tl-c01",)

    _report(session, "tl-c01", "0.2.0", tone_seq=20)
    fleet = rollouts.fleet_health(session)
    moved_at = T0 + timedelta(minutes=2)
    step = rollout.advance(looked_at, fleet, moved_at)
    saved = rollouts.save_step(session, view.id, looked_at=looked_at, step=step, fleet=fleet, now=moved_at)
    assert saved is not None and (saved.wave, saved.outcomes["tl-c01"]) == (1, "healthy")
    assert [w["status"] for w in saved.wave_progress()] == ["done", "running", "pending"]

    rollouts.cancel_rollout(session, view.id, moved_at, actor="root")
    late = rollouts.save_step(session, view.id, looked_at=looked_at, step=step, fleet=fleet, now=moved_at)
    assert late is None and rollouts.running_rollout(session) is None
    assert rollouts.recent_rollouts(session)[0].state == "cancelled"
