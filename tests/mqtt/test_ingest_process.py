"""Storing in a child process (LOAXA_MQTT_INGEST_PROCESS): same outcome as in-process, and a lost child
costs a retry, never a message."""

import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from controller import services
from controller.db import DeviceEvent
from controller.mqtt.client import Incoming
from controller.mqtt.ingest_process import IngestProcess
from protocol import Event
from tests.mqtt.test_ingest_batches import heartbeat, message
from tests.web.conftest import NOW, Runtime

INTERVAL = timedelta(seconds=30)


def event(seq: int, kind: str = "finished") -> bytes:
    return json.dumps({"seq": seq, "type": kind, "at": "2026-11-22T04:00:05Z", "boot_id": "b1"}).encode()


def db_url(runtime: Runtime) -> str:
    return runtime.db.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def child(runtime: Runtime) -> Iterator[tuple[IngestProcess, list[tuple[str, Event]]]]:
    seen: list[tuple[str, Event]] = []
    process = IngestProcess(
        db_url(runtime), heartbeat_interval=INTERVAL, on_event=lambda d, e: seen.append((d, e))
    )
    process.start()
    yield process, seen
    process.stop()


def batch() -> list[Incoming]:
    birth = json.dumps({"state": "online", "bdseq": 1, "boot_id": "b1"}).encode()
    return [
        message("tule-c01", "status", birth, 0),
        message("tule-c01", "heartbeat", heartbeat(1), 1),
        message("tule-c02", "heartbeat", heartbeat(1), 1),
        message("tule-c99", "heartbeat", heartbeat(1), 1),  # not provisioned
        message("tule-c01", "events", event(1), 2),
        message("tule-c02", "heartbeat", b"{broken", 2),
    ]


def test_the_child_stores_a_batch_and_the_parent_sees_counts_and_events(
    runtime: Runtime, child: tuple[IngestProcess, list[tuple[str, Event]]]
) -> None:
    process, seen = child
    process.handle_batch(batch())
    assert process.counters() == {
        "accepted": {"status": 1, "heartbeat": 2, "events": 1},
        "rejected": {"unknown_device": 1, "bad_json": 1},
    }
    assert [(device, e.seq, e.type) for device, e in seen] == [("tule-c01", 1, "finished")]
    with runtime.db.session() as session:
        c01 = services.get_device(session, "tule-c01", NOW + timedelta(seconds=5))
        c02 = services.get_device(session, "tule-c02", NOW + timedelta(seconds=5))
    assert c01.online and c01.last_seen == NOW + timedelta(seconds=1)
    assert c02.metrics is not None and c02.metrics["seq"] == 1
    assert process.pid is not None and process.pid != os.getpid()


def test_a_killed_child_is_replaced_and_a_resent_batch_counts_its_event_once(
    runtime: Runtime, child: tuple[IngestProcess, list[tuple[str, Event]]]
) -> None:
    process, seen = child
    process.handle_batch(batch())
    first = process.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    # The same batch again (as the broker resends what was not acknowledged), and a new event. The
    # first try may still reach the dying child and fail; MqttLink then retries, as here.
    resent = [*batch(), message("tule-c01", "events", event(2), 3)]
    try:
        process.handle_batch(resent)
    except ConnectionError:
        process.handle_batch(resent)
    assert process.pid not in (None, first)
    assert process.lost == 1
    with runtime.db.session() as session:
        stored = session.scalars(
            select(DeviceEvent.seq).where(DeviceEvent.device_id == "tule-c01").order_by(DeviceEvent.seq)
        ).all()
    assert stored == [1, 2]  # the resent event 1 was not stored twice
    assert {e.seq for _, e in seen} == {1, 2}


def test_a_child_stuck_on_a_locked_database_is_replaced_and_the_batch_can_be_retried(
    runtime: Runtime,
) -> None:
    process = IngestProcess(db_url(runtime), heartbeat_interval=INTERVAL, batch_timeout_s=1.0)
    process.start()
    try:
        path = runtime.db.engine.url.database
        assert path is not None
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the child waits for the write lock (busy timeout 5 s)
        stuck = process.pid
        with pytest.raises(ConnectionError, match="ingest process lost"):
            process.handle_batch(batch())
        holder.execute("ROLLBACK")
        holder.close()
        process.handle_batch(batch())  # what MqttLink does next: the same batch, to a new child
        assert process.pid != stuck
        assert process.counters()["accepted"] == {"status": 1, "heartbeat": 2, "events": 1}
    finally:
        process.stop()
