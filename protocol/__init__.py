"""The wire contract between the controller and the edge agents (DESIGN §5).

Owns topic strings, message shapes, canonical JSON and Ed25519 signing. It must stay importable on a
Raspberry Pi with only the `edge` extra: stdlib, cryptography, nothing else.
"""

from protocol.errors import ProtocolError
from protocol.messages import Command, Event, Heartbeat, Status
from protocol.plan import (
    MAX_PLAN_WINDOWS,
    MAX_URL,
    Asset,
    PlanBody,
    PlanItem,
    Priority,
    SourcedItem,
    WindowSpec,
    check_plan_windows,
)
from protocol.signing import Envelope, Signer, Verifier, canonical_json, decode_json
from protocol.sources import StreamSource, UnknownSource
from protocol.timefmt import format_utc, parse_utc

__all__ = [
    "MAX_PLAN_WINDOWS",
    "MAX_URL",
    "Asset",
    "Command",
    "Envelope",
    "Event",
    "Heartbeat",
    "PlanBody",
    "PlanItem",
    "Priority",
    "ProtocolError",
    "Signer",
    "SourcedItem",
    "Status",
    "StreamSource",
    "UnknownSource",
    "Verifier",
    "WindowSpec",
    "canonical_json",
    "check_plan_windows",
    "decode_json",
    "format_utc",
    "parse_utc",
]
