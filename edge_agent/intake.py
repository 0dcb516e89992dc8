"""The gate for controller → device messages: signature, device, envelope type, anti-replay, body shape.

Owns the acceptance rules of DESIGN §5 on the agent side and the per-reason rejection counters. A plan
whose seq is below the last accepted one is `replayed`; an equal seq (the retained plan delivered again on
reconnect) is a harmless duplicate; a command needs a seq strictly above the last accepted command.
An area message (one envelope for many devices on `loaxa/v1/area/{area}/cmd`) is acted on only when this
device is among its signed targets, needs a seq above the last accepted on that area's topic (the same
seq again is a duplicate, as for plans; a lower one `replayed`), and may carry only `play_now` or
`fetch`; one for other devices is ignored without verifying it (counted, not as a rejection).
A message byte for byte the same as the last one accepted on its topic (the retained plan, or a QoS 1
message delivered again, after every reconnect) is a duplicate without a second signature check: those
bytes were verified when they were accepted, and a reconnect storm would otherwise cost every agent a
check per topic. It must not act on what it accepts (agent.py does) and never raises on bad input.
"""

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge_agent.state import State, Stream
from protocol import Command, PlanBody, ProtocolError, Verifier

log = logging.getLogger(__name__)
# What may arrive on an area topic; everything else is sent to one device on its own topic.
_AREA_COMMANDS: Final = frozenset({"play_now", "fetch"})


@dataclass(frozen=True)
class AcceptedPlan:
    """A verified, new plan."""

    seq: int
    body: PlanBody


@dataclass(frozen=True)
class AcceptedCommand:
    """A verified, new command."""

    seq: int
    command: Command


def read_plan(verifier: Verifier, payload: bytes) -> tuple[int, PlanBody]:
    """Verify a plan envelope and read its body; raise ProtocolError with the reason."""
    envelope = verifier.open(payload)
    if envelope.type != "plan":
        raise ProtocolError("wrong_type", f"envelope type {envelope.type!r} on the plan topic")
    body = PlanBody.from_json(envelope.body)
    try:
        ZoneInfo(body.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ProtocolError("bad_field", f"plan timezone {body.timezone!r} is unknown") from exc
    return envelope.seq, body


class Intake:
    """Checks incoming plans and commands and remembers accepted seqs in the state database."""

    def __init__(self, verifier: Verifier, state: State) -> None:
        self._verifier = verifier
        self._state = state
        self._lock = threading.Lock()
        self._rejected: Counter[str] = Counter()
        self.duplicates = 0
        self.not_targeted = 0  # area messages for other devices of the area
        self.area_duplicates = 0  # an accepted area message delivered again
        self._last_area_payload: dict[str, bytes] = {}  # area → the bytes last accepted on its topic

    def rejections(self) -> dict[str, int]:
        """Rejected messages so far, by reason (e.g. ``plan.bad_signature``)."""
        with self._lock:
            return dict(self._rejected)

    def _reject(self, stream: Stream, exc: ProtocolError) -> None:
        with self._lock:
            self._rejected[f"{stream}.{exc.reason}"] += 1
        log.warning("rejected %s message (%s): %s", stream, exc.reason, exc)

    def plan(self, payload: bytes) -> AcceptedPlan | None:
        """Accept and store a new plan, or return None (duplicate or rejected; rejections are counted)."""
        if payload == self._state.plan_envelope():
            self._duplicate_plan()
            return None
        try:
            seq, body = read_plan(self._verifier, payload)
            last = self._state.last_seq("plan")
            if seq < last:
                raise ProtocolError("replayed", f"plan seq {seq} is below the last accepted {last}")
        except ProtocolError as exc:
            self._reject("plan", exc)
            return None
        # Equal: the retained copy again, unless the state was rebuilt and lost the plan (take it back).
        if seq == last and self._state.plan_envelope() is not None:
            self._duplicate_plan()
            return None
        self._state.save_plan(seq, body.version, payload)
        log.info("accepted plan version %s (seq %s, %s items)", body.version, seq, len(body.items))
        return AcceptedPlan(seq, body)

    def _duplicate_plan(self) -> None:
        with self._lock:
            self.duplicates += 1
        log.debug("plan already accepted (retained copy)")

    def command(self, payload: bytes) -> AcceptedCommand | None:
        """Accept a new command, or return None (rejections are counted)."""
        try:
            envelope = self._verifier.open(payload)
            if envelope.type != "cmd":
                raise ProtocolError("wrong_type", f"envelope type {envelope.type!r} on the cmd topic")
            last = self._state.last_seq("cmd")
            if envelope.seq <= last:
                raise ProtocolError("replayed", f"command seq {envelope.seq} is not above {last}")
            command = Command.from_json(envelope.body)
        except ProtocolError as exc:
            self._reject("cmd", exc)
            return None
        self._state.accept_command(envelope.seq)
        log.info("accepted command %s (seq %s)", command.command, envelope.seq)
        return AcceptedCommand(envelope.seq, command)

    def area_command(self, area: str, payload: bytes) -> AcceptedCommand | None:
        """Accept a new command from `area`'s topic when it targets this device, or return None."""
        if payload == self._last_area_payload.get(area):
            self._duplicate_area_message(area)
            return None
        try:
            envelope = self._verifier.open_area(payload, area)
            if envelope.type != "cmd":
                raise ProtocolError("wrong_type", f"envelope type {envelope.type!r} on an area topic")
            last = self._state.last_seq("area", area)
            if envelope.seq < last:
                raise ProtocolError("replayed", f"area {area} seq {envelope.seq} is below {last}")
            command = Command.from_json(envelope.body)
            if command.command not in _AREA_COMMANDS:
                raise ProtocolError("wrong_type", f"command {command.command!r} is not sent on area topics")
        except ProtocolError as exc:
            if exc.reason != "not_targeted":
                self._reject("area", exc)
                return None
            with self._lock:
                self.not_targeted += 1
            log.debug("%s", exc)
            return None
        if envelope.seq == last:
            # QoS 1 delivers again what was not acknowledged before a reconnect: harmless, as for plans.
            self._duplicate_area_message(area)
            return None
        self._state.accept_area_message(area, envelope.seq)
        self._last_area_payload[area] = payload
        log.info("accepted command %s from area %s (seq %s)", command.command, area, envelope.seq)
        return AcceptedCommand(envelope.seq, command)

    def _duplicate_area_message(self, area: str) -> None:
        with self._lock:
            self.area_duplicates += 1
        log.debug("area %s message already accepted", area)
