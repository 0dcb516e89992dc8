"""Fuzzing MQTT ingestion with hypothesis: random and mutated uplink payloads through the real Ingestor
into a real migrated SQLite. No exception escapes, every message is counted once, good ones still land.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.mqtt.client import Incoming
from controller.mqtt.ingest import Ingestor
from tests.web.conftest import NOW, Runtime

DEVICES = ("tule-c01", "tule-c02", "tule-c99", "", "../etc", "tule-c01/../x")
SENT = "2026-11-22T04:00:00Z"
VALID: dict[str, dict[str, Any]] = {
    "heartbeat": {
        "seq": 1, "boot_id": "b1", "uptime_s": 30, "sent_at": SENT, "clock_synced": True,
        "plan_version": 1, "assets_missing": 0, "amp_on": False, "agent_version": "0.1", "cpu_temp_c": 48.5,
    },
    "status": {"state": "online", "bdseq": 1, "boot_id": "b1", "version": "0.1", "sent_at": SENT},
    "events": {"seq": 1, "type": "started", "at": SENT, "boot_id": "b1", "item_id": "i1", "bulletin_id": 1},
}  # fmt: skip
NASTY = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(["\x00", "\ud800", "a" * 5000, "", "2026-13-40T99:99:99Z", "NaN", "🔊" * 50]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.text(max_size=40),
)


@st.composite
def mutated(draw: st.DrawFn, channel: str) -> bytes:
    """A valid message of the channel with fields changed, dropped or added."""
    data = dict(VALID[channel])
    for key in draw(st.lists(st.sampled_from(sorted(data)), max_size=3, unique=True)):
        if draw(st.booleans()):
            data[key] = draw(NASTY)
        else:
            del data[key]
    if draw(st.booleans()):
        data[draw(st.text(max_size=8))] = draw(NASTY)
    return json.dumps(data, allow_nan=True).encode("utf-8", "surrogatepass")


@st.composite
def incoming(draw: st.DrawFn) -> Incoming:
    channel = draw(st.sampled_from(sorted(VALID)))
    payload = draw(
        st.one_of(
            mutated(channel),
            st.binary(max_size=300),
            st.just(json.dumps(VALID[channel]).encode()),
            st.just(b"[" * 100_000),
            st.just(b'{"seq": ' + b"9" * 5000 + b"}"),
            st.just(b"{}" + b" " * (70 * 1024)),
        )
    )
    return Incoming(draw(st.sampled_from(DEVICES)), channel, payload, NOW)  # type: ignore[arg-type]


def test_random_and_mutated_uplinks_never_escape(runtime: Runtime) -> None:
    ingestor = Ingestor(runtime.db, heartbeat_interval=timedelta(seconds=30))
    fed = 0

    @given(batch=st.lists(incoming(), min_size=1, max_size=20))
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def feed(batch: list[Incoming]) -> None:
        nonlocal fed
        ingestor.handle_batch(batch)
        fed += len(batch)
        counters = ingestor.counters()
        assert sum(counters["accepted"].values()) + sum(counters["rejected"].values()) == fed

    feed()
    counters = ingestor.counters()
    assert counters["accepted"], "some valid messages must land"
    assert {"bad_json", "unknown_device"} <= set(counters["rejected"])
    assert "store_failed" not in counters["rejected"], counters


def test_one_bad_message_does_not_cost_its_batch(runtime: Runtime) -> None:
    ingestor = Ingestor(runtime.db, heartbeat_interval=timedelta(seconds=30))
    good = json.dumps(VALID["heartbeat"]).encode()
    huge = json.dumps({**VALID["heartbeat"], "seq": 2**64}).encode()
    nul = json.dumps({**VALID["status"], "boot_id": "b\x00"}).encode()
    at = datetime(2026, 11, 22, 4, 0, 1, tzinfo=UTC)
    ingestor.handle_batch(
        [
            Incoming("tule-c01", "heartbeat", huge, at),
            Incoming("tule-c02", "status", nul, at),
            Incoming("tule-c03", "heartbeat", good, at),
        ]
    )
    assert ingestor.counters() == {"accepted": {"heartbeat": 1}, "rejected": {"bad_value": 2}}
