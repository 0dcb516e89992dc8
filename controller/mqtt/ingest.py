"""Uplink ingestion: decode, validate and store status, heartbeats and events (DESIGN §5).

Owns the rejection counters: every malformed or foreign message is counted by reason and logged, never
raised into paho's loop. Each message is stored in its own savepoint, so one that the database refuses
(or that trips a bug) costs only itself, not the rest of its batch. Values no column can hold (integers
beyond 64 bits, NUL, lone surrogates) are refused before storage. Storage itself is
`controller.services.ingest`; this module never builds SQL.
"""

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from controller.db import Database
from controller.mqtt.client import Incoming
from controller.services import ingest
from controller.services.errors import NotFound
from protocol import Event, Heartbeat, ProtocolError, Status, decode_json

log = logging.getLogger(__name__)

# Uplink messages are small; anything larger is a broken or hostile client.
MAX_UPLINK_BYTES = 64 * 1024
_INT_RANGE = range(-(2**63), 2**63)
# What check_values refuses can only come from two byte patterns: JSON text reaches NUL or a lone
# surrogate only through a \u escape (strict JSON refuses raw control characters, and UTF-8 decoding
# refuses encoded surrogates), and an integer beyond 64 bits is written with at least 19 digits. A
# payload with neither (every heartbeat of our agents) needs no walk over its values, which cost a
# fifth of the time per heartbeat. Digits are found by mapping each to "0" and looking for 19 in a row.
_ALL_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_NINETEEN_DIGITS = b"0" * 19
_HEARTBEAT_FIELDS = frozenset(field.name for field in fields(Heartbeat))


def _may_hold_bad_value(payload: bytes) -> bool:
    """False when `payload` certainly holds no value check_values would refuse."""
    return b"\\u" in payload or _NINETEEN_DIGITS in payload.translate(_ALL_DIGITS_TO_ZERO)


def check_values(data: Any) -> None:
    """Refuse integers beyond 64 bits and text holding NUL or lone surrogates, anywhere in `data`."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, bool | float):
            continue
        elif isinstance(value, int) and value not in _INT_RANGE:
            raise ProtocolError("bad_value", "an integer is beyond 64 bits")
        elif isinstance(value, str) and ("\x00" in value or (not value.isascii() and _has_surrogate(value))):
            raise ProtocolError("bad_value", f"text {value[:40]!r} holds NUL or a lone surrogate")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class Ingestor:
    """Stores batches of uplink messages, one transaction per batch, and counts what it rejects."""

    def __init__(
        self,
        db: Database,
        *,
        heartbeat_interval: timedelta,
        on_event: Callable[[str, Event], None] | None = None,
    ) -> None:
        self._db = db
        self._interval = heartbeat_interval
        self._on_event = on_event
        self._lock = threading.Lock()
        self.accepted: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()

    def start(self) -> None:
        """Nothing to start: batches are stored on the calling thread (IngestProcess starts a child)."""

    def stop(self) -> None:
        """Nothing to stop (IngestProcess has a child to stop)."""

    def handle_batch(self, batch: list[Incoming]) -> None:
        """Store a batch of messages in arrival order; a bad message is counted and skipped, the rest land.

        Runs of heartbeats (most of the traffic) are stored together with a few queries; statuses and
        events one by one, each in its own savepoint.
        """
        stored_events: list[tuple[str, Event]] = []
        with self._db.session() as session:
            beats: list[tuple[Incoming, Heartbeat, str | None]] = []
            for message in batch:
                try:
                    data = self._decode(message)
                    if message.channel == "heartbeat":
                        heartbeat = Heartbeat.from_json(data)  # refuses anything but a valid object
                        # A payload of known fields only is stored as it came (see record_heartbeats).
                        text = message.payload.decode() if data.keys() <= _HEARTBEAT_FIELDS else None
                        beats.append((message, heartbeat, text))
                        continue
                    self._store_heartbeats(session, beats)
                    beats = []
                    event = self._guarded(session, message, partial(self._store, session, message, data))
                except ProtocolError as exc:
                    self._reject(message, exc.reason, str(exc))
                    continue
                if event is not None:
                    stored_events.append((message.device_id, event))
            self._store_heartbeats(session, beats)
        if self._on_event is not None:
            for device_id, event in stored_events:
                self._on_event(device_id, event)

    @staticmethod
    def _decode(message: Incoming) -> Any:
        """The payload as checked JSON, or ProtocolError with the reason."""
        data = decode_json(message.payload, max_bytes=MAX_UPLINK_BYTES)
        if _may_hold_bad_value(message.payload):
            check_values(data)
        return data

    def _store_heartbeats(
        self, session: Session, beats: list[tuple[Incoming, Heartbeat, str | None]]
    ) -> None:
        """Store a run of heartbeats at once; if the database refuses the run, store them one by one."""
        if not beats:
            return
        rows = [(m.device_id, hb, m.received_at) for m, hb, _ in beats]
        texts = [text for _, _, text in beats]
        try:
            with session.begin_nested():
                unknown = ingest.record_heartbeats(session, rows, interval=self._interval, as_received=texts)
                session.flush()
        except Exception:
            log.exception("storing %d heartbeats together failed; storing them one by one", len(beats))
            for message, heartbeat, _ in beats:
                self._guarded(session, message, partial(self._store_one, session, message, heartbeat))
            return
        stored = len(beats)
        for message, _, _ in beats:
            if message.device_id in unknown:
                self._reject(message, "unknown_device", f"device {message.device_id!r} is not provisioned")
                stored -= 1
        with self._lock:
            self.accepted["heartbeat"] += stored

    def _store_one(self, session: Session, message: Incoming, heartbeat: Heartbeat) -> Event | None:
        ingest.record_heartbeat(
            session, message.device_id, heartbeat, message.received_at, interval=self._interval
        )
        return None

    def _guarded(
        self, session: Session, message: Incoming, store: Callable[[], Event | None]
    ) -> Event | None:
        """Run one message's storage in a savepoint; count it as accepted or rejected."""
        try:
            with session.begin_nested():
                event = store()
                session.flush()
        except ProtocolError as exc:
            self._reject(message, exc.reason, str(exc))
        except NotFound as exc:
            self._reject(message, "unknown_device", str(exc))
        except Exception as exc:
            # A message the database refuses, or a bug: count it, keep its traceback, go on.
            log.exception("storing %s from %s failed", message.channel, message.device_id)
            self._reject(message, "store_failed", f"{type(exc).__name__}: {exc}")
        else:
            with self._lock:
                self.accepted[message.channel] += 1
            return event
        return None

    def _store(self, session: Session, message: Incoming, data: Any) -> Event | None:
        """Store one status or event; return it when it is an event."""
        if message.channel == "status":
            ingest.record_status(session, message.device_id, Status.from_json(data), message.received_at)
            return None
        event = Event.from_json(data)
        ingest.record_event(session, message.device_id, event, message.received_at)
        return event

    def _reject(self, message: Incoming, reason: str, detail: str) -> None:
        with self._lock:
            self.rejected[reason] += 1
        log.warning("rejected %s from %s (%s): %s", message.channel, message.device_id, reason, detail[:200])

    def counters(self) -> dict[str, dict[str, int]]:
        """Accepted and rejected counts by channel and reason, for health and logs."""
        with self._lock:
            return {"accepted": dict(self.accepted), "rejected": dict(self.rejected)}
