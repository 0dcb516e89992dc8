"""The byte filter that lets the ingestor skip walking a payload's values never skips a bad one.

`Ingestor` walks decoded values (`check_values`) only when the payload's bytes could hold an integer
beyond 64 bits, NUL or a lone surrogate; this checks that claim against the walk itself.
"""

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from controller.mqtt.ingest import _may_hold_bad_value, check_values
from protocol import ProtocolError, decode_json

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**18, 10**19]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(exclude_categories=()), max_size=8),  # surrogates included
    st.sampled_from(["\x00", "\ud800", "a\udfffb", "Bản Lìm", "\\u0000"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@given(value=VALUES, ascii_only=st.booleans())
def test_a_payload_the_filter_passes_holds_no_value_check_values_refuses(
    value: Any, ascii_only: bool
) -> None:
    payload = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        data = decode_json(payload)
    except ProtocolError:
        return  # refused before any value is looked at (e.g. an encoded surrogate is not UTF-8)
    try:
        check_values(data)
    except ProtocolError:
        assert _may_hold_bad_value(payload)


def test_agents_heartbeats_skip_the_walk() -> None:
    body = {"seq": 10**17, "boot_id": "b1", "sent_at": "2026-11-22T04:00:00Z", "net": {"type": "Mạng 4G"}}
    assert not _may_hold_bad_value(json.dumps(body, ensure_ascii=False).encode())
