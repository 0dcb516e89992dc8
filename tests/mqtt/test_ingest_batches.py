"""The ingestor stores a batch in arrival order: runs of heartbeats together, statuses and events between."""

import json
from datetime import timedelta

from controller import services
from controller.mqtt.client import Incoming
from controller.mqtt.ingest import Ingestor
from tests.web.conftest import NOW, Runtime

SENT = "2026-11-22T04:00:00Z"


def heartbeat(seq: int) -> bytes:
    body = {"seq": seq, "boot_id": "b1", "uptime_s": seq, "sent_at": SENT, "clock_synced": True}
    body |= {"plan_version": 1, "assets_missing": 0, "amp_on": False, "agent_version": "0.1"}
    return json.dumps(body).encode()


def message(device: str, channel: str, payload: bytes, at_s: int) -> Incoming:
    return Incoming(device, channel, payload, NOW + timedelta(seconds=at_s))  # type: ignore[arg-type]


def test_a_will_between_heartbeats_is_applied_in_order(runtime: Runtime) -> None:
    ingestor = Ingestor(runtime.db, heartbeat_interval=timedelta(seconds=30))
    birth = json.dumps({"state": "online", "bdseq": 4, "boot_id": "b1"}).encode()
    will = json.dumps({"state": "offline", "bdseq": 4}).encode()
    ingestor.handle_batch(
        [
            message("tule-c01", "status", birth, 0),
            message("tule-c01", "heartbeat", heartbeat(1), 1),
            message("tule-c02", "heartbeat", heartbeat(1), 1),
            message("tule-c99", "heartbeat", heartbeat(1), 1),  # not provisioned
            message("tule-c02", "heartbeat", b"{broken", 2),
            message("tule-c01", "status", will, 3),  # the link dropped after its heartbeat
            message("tule-c02", "heartbeat", heartbeat(2), 30),
        ]
    )
    assert ingestor.counters() == {
        "accepted": {"status": 2, "heartbeat": 3},
        "rejected": {"unknown_device": 1, "bad_json": 1},
    }
    with runtime.db.session() as session:
        c01 = services.get_device(session, "tule-c01", NOW + timedelta(seconds=40))
        c02 = services.get_device(session, "tule-c02", NOW + timedelta(seconds=40))
    assert not c01.online  # the will came last for c01
    assert c02.online and c02.last_seen == NOW + timedelta(seconds=30)
    assert c02.metrics is not None and c02.metrics["seq"] == 2


def test_metrics_hold_what_the_heartbeat_reader_knows_and_nothing_else(runtime: Runtime) -> None:
    ingestor = Ingestor(runtime.db, heartbeat_interval=timedelta(seconds=30))
    plain = json.loads(heartbeat(1)) | {"cpu_temp_c": 51, "net": {"type": "4g", "signal_dbm": -79}}
    newer_agent = json.loads(heartbeat(1)) | {"fan_rpm": 1200, "cpu_temp_c": 48}  # a field we do not know
    ingestor.handle_batch(
        [
            message("tule-c01", "heartbeat", json.dumps(plain).encode(), 1),
            message("tule-c02", "heartbeat", json.dumps(newer_agent).encode(), 1),
        ]
    )
    with runtime.db.session() as session:
        c01 = services.get_device(session, "tule-c01", NOW + timedelta(seconds=5))
        c02 = services.get_device(session, "tule-c02", NOW + timedelta(seconds=5))
    assert c01.metrics == plain  # stored as it came
    assert c02.metrics is not None and "fan_rpm" not in c02.metrics  # written back from the reader's model
    assert c02.metrics["cpu_temp_c"] == 48.0 and c02.metrics["boot_id"] == "b1"


def test_a_heartbeat_that_is_not_an_object_is_rejected_not_raised(runtime: Runtime) -> None:
    ingestor = Ingestor(runtime.db, heartbeat_interval=timedelta(seconds=30))
    ingestor.handle_batch(
        [
            message("tule-c01", "heartbeat", b"5", 1),
            message("tule-c01", "heartbeat", b'["seq", 1]', 1),
            message("tule-c02", "heartbeat", heartbeat(1), 1),
        ]
    )
    assert ingestor.counters() == {"accepted": {"heartbeat": 1}, "rejected": {"bad_shape": 2}}
