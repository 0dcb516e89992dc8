"""Uplink ingestion: decode, validate and store status, heartbeats and events (DESIGN §5).

Owns the rejection counters: every malformed or foreign message is counted by reason and logged, never
raised into paho's loop. Storage itself is `controller.services.ingest`; this module never builds SQL.
"""

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from controller.db import Database
from controller.mqtt.client import Incoming
from controller.services import ingest
from controller.services.errors import NotFound
from protocol import Event, Heartbeat, ProtocolError, Status, decode_json

log = logging.getLogger(__name__)

# Uplink messages are small; anything larger is a broken or hostile client.
MAX_UPLINK_BYTES = 64 * 1024


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

    def handle_batch(self, batch: list[Incoming]) -> None:
        """Store a batch of messages; a bad message is counted and skipped, the rest still land."""
        stored_events: list[tuple[str, Event]] = []
        with self._db.session() as session:
            for message in batch:
                try:
                    data = decode_json(message.payload, max_bytes=MAX_UPLINK_BYTES)
                    if message.channel == "heartbeat":
                        ingest.record_heartbeat(
                            session,
                            message.device_id,
                            Heartbeat.from_json(data),
                            message.received_at,
                            interval=self._interval,
                        )
                    elif message.channel == "status":
                        ingest.record_status(
                            session, message.device_id, Status.from_json(data), message.received_at
                        )
                    else:
                        event = Event.from_json(data)
                        ingest.record_event(session, message.device_id, event, message.received_at)
                        stored_events.append((message.device_id, event))
                except ProtocolError as exc:
                    self._reject(message, exc.reason, str(exc))
                except NotFound as exc:
                    self._reject(message, "unknown_device", str(exc))
                else:
                    with self._lock:
                        self.accepted[message.channel] += 1
        if self._on_event is not None:
            for device_id, event in stored_events:
                self._on_event(device_id, event)

    def _reject(self, message: Incoming, reason: str, detail: str) -> None:
        with self._lock:
            self.rejected[reason] += 1
        log.warning("rejected %s from %s (%s): %s", message.channel, message.device_id, reason, detail[:200])

    def counters(self) -> dict[str, dict[str, int]]:
        """Accepted and rejected counts by channel and reason, for health and logs."""
        with self._lock:
            return {"accepted": dict(self.accepted), "rejected": dict(self.rejected)}
