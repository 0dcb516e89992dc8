"""The heartbeat's plain reader (the controller's hot path) against the general, field-by-field reader.

The plain reader may decline any heartbeat (the general one then reads it), but what it accepts the
general reader must accept with the same values, and it must accept the heartbeats our agents send.
"""

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import Heartbeat, ProtocolError
from protocol.messages import _plain_heartbeat, _read_heartbeat

AGENT_HEARTBEAT = Heartbeat(
    seq=7, boot_id="b-1", uptime_s=3600, sent_at=datetime(2026, 12, 7, 4, 0, 0, 250000, tzinfo=UTC),
    clock_synced=True, plan_version=3, assets_missing=0, amp_on=False, agent_version="0.9.0",
    cpu_temp_c=51.2, load1=0.3, mem_used_pct=41.0, disk_free_mb=9000.0, cache_bytes=1_048_576,
    playing="item-1", volume=80, net={"type": "4g", "signal_dbm": -79},
)  # fmt: skip

FIELDS = sorted(AGENT_HEARTBEAT.to_json())
# Values of every JSON type a field could wrongly hold, and the edges of the right ones.
EDGES: list[Any] = [
    None, True, False, -1, 0, 1, 100, 101, 2**63, -0.0, 1.5, float("inf"), "", "x" * 64, "x" * 65,
    "x" * 128, "x" * 129, "2026-12-07T04:00:00Z", "2026-12-07T04:00:00", "2026-12-07T04:00:00+07:00",
    "not a time", [], [1], {}, {"type": "wifi"},
]  # fmt: skip
ODD = st.one_of(
    st.sampled_from(EDGES), st.integers(-2, 2**64), st.floats(allow_nan=False), st.text(max_size=3),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip


def same(a: Heartbeat, b: Heartbeat) -> bool:
    """Equal values, with numbers equal in type too (1 and 1.0 compare equal in Python)."""
    return a == b and all(type(x) is type(y) for x, y in zip(vars(a).values(), vars(b).values(), strict=True))


def test_an_agents_heartbeat_takes_the_plain_reader_with_the_same_result() -> None:
    data = json.loads(json.dumps(AGENT_HEARTBEAT.to_json()))
    plain = _plain_heartbeat(data)
    assert plain is not None
    assert same(plain, _read_heartbeat(data))
    assert same(plain, AGENT_HEARTBEAT)
    sparse = {k: v for k, v in data.items() if v is not None and k not in ("net", "cache_bytes")}
    plain = _plain_heartbeat(sparse)
    assert plain is not None and same(plain, _read_heartbeat(sparse))


# A shared 2-core machine can make generating examples slow; that is no fault of the readers.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(FIELDS), ODD, max_size=4),
       dropped=st.sets(st.sampled_from(FIELDS), max_size=2))  # fmt: skip
def test_the_plain_reader_accepts_only_what_the_general_one_accepts_and_alike(
    changes: dict[str, Any], dropped: set[str]
) -> None:
    data = {k: v for k, v in {**AGENT_HEARTBEAT.to_json(), **changes}.items() if k not in dropped}
    agree(data)


def test_every_field_at_every_edge_reads_alike() -> None:
    base = AGENT_HEARTBEAT.to_json()
    for key in FIELDS:
        agree({k: v for k, v in base.items() if k != key})
        for value in EDGES:
            agree({**base, key: value})


def agree(data: dict[str, Any]) -> None:
    """The plain reader declines `data` or reads it as the general reader does."""
    plain = _plain_heartbeat(data)
    try:
        general = _read_heartbeat(data)
    except ProtocolError:
        assert plain is None
        return
    assert plain is None or same(plain, general)
    assert same(Heartbeat.from_json(data), general)


def test_what_is_not_an_object_goes_to_the_general_reader() -> None:
    not_objects: list[object] = [None, [], "x", 1]
    for data in not_objects:
        assert _plain_heartbeat(data) is None
