"""Events the broker acknowledged to an agent but never delivered are asked for again (issue 20, item 5).

The real controller (its managed mosquitto with a deliberately small queue), a real agent process: while
the controller's session is away the broker keeps only QUEUE events for it and drops the rest after
acknowledging them to the agent. The controller must see the hole in the device's seqs, send `resync` with
`events_from`, and end up with every event stored exactly once.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from sqlalchemy import select

import controller.mqtt.queue_sizing
from controller.db.models import DeviceEvent
from controller.mqtt.event_gaps import GRACE, RESYNC_EVERY
from edge_agent.state import State
from protocol import Event
from tests.integration.conftest import Deployment, deployed, wait_for

DEVICE = "tule-c01"
# Messages the broker keeps for the controller's session while it is away: more than the agent's burst of
# WINDOW, so the resend itself (a burst, then 50/s) fits while the controller is connected.
QUEUE = 60
BURST = 200  # events the agent publishes meanwhile: most of them overflow the queue


@pytest.fixture(params=[False, True], ids=["ingest-thread", "ingest-process"])
def small_queue_deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Deployment]:
    """Events stored on the link's thread, or in the ingest child (which reports them back)."""
    monkeypatch.setattr(controller.mqtt.queue_sizing, "QUEUE_FLOOR", QUEUE)
    monkeypatch.setattr(controller.mqtt.queue_sizing, "QUEUE_PER_DEVICE", 1)
    with deployed(tmp_path, opens_in_s=3600, length_s=60, mqtt__ingest_process=request.param) as running:
        yield running


def _stored_seqs(deployment: Deployment) -> list[int]:
    with deployment.controller.db.session() as session:
        return list(session.scalars(select(DeviceEvent.seq).where(DeviceEvent.device_id == DEVICE)))


def _add_events(state: State, count: int) -> None:
    """Events in the agent's own durable outbox, as its player would write them."""
    for _ in range(count):
        now = datetime.now(UTC)

        def build(seq: int, now: datetime = now) -> str:
            event = Event(seq=seq, type="failed", at=now, boot_id="test", reason="test", detail="burst")
            return json.dumps(event.to_json())

        state.add_event(build, now)


@pytest.mark.timeout(300)
def test_events_dropped_by_the_broker_are_resent_and_stored_once(small_queue_deployment: Deployment) -> None:
    deployment = small_queue_deployment
    home = deployment.start_agent(DEVICE)
    wait_for("the agent's first stored event", lambda: _stored_seqs(deployment), timeout=60)
    state = State(home / "state" / "agent.sqlite3")
    try:
        link = deployment.controller.link
        link.stop()  # the controller's session is away: the broker queues QUEUE events for it, drops the rest
        before = len(_stored_seqs(deployment))
        _add_events(state, BURST)
        # Marked sent once the broker acknowledged it: by then it has queued or dropped each one.
        wait_for("the agent to publish the burst", lambda: not state.unsent_events(1), timeout=60)
        link.start()
        wait_for("the queued events", lambda: len(_stored_seqs(deployment)) >= before + QUEUE, timeout=30)
        assert len(_stored_seqs(deployment)) < before + BURST, "the broker dropped part of the burst"
        _add_events(state, 1)  # a later event shows the controller the hole below it
        held = state.held_events()
        assert held is not None
        every = list(range(1, held[1] + 1))
        # The hole is asked for once it has been open GRACE and the next check runs (every GRACE); the
        # agent then resends at most 50 events a second. One more resync (a minute later) is allowed for.
        wait_for(
            "every event stored after the resync",
            lambda: _stored_seqs(deployment) == every,
            timeout=3 * GRACE.total_seconds() + RESYNC_EVERY.total_seconds() + BURST / 50 + 30,
        )
    finally:
        state.close()
    gaps = deployment.controller.event_gaps
    assert gaps.resyncs_sent >= 1 and not gaps.lost
    metrics = generate_latest(deployment.controller.monitoring.registry).decode()
    assert f"loaxa_events_resyncs_total {float(gaps.resyncs_sent)}" in metrics
    assert "loaxa_events_missing_devices 0.0" in metrics
