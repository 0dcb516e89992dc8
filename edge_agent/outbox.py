"""The durable event outbox: every event is stored first, then published in seq order at QoS 1.

Owns event seqs (persistent and monotonic across restarts) and the rule that an event is marked sent only
once the broker acknowledged it (PUBACK), so nothing is lost while offline. At-least-once: the controller
drops duplicates by (device, seq). It must not decide which events happen.
"""

import json
import logging
from collections import OrderedDict
from typing import Final, Protocol

import paho.mqtt.client as mqtt

from edge_agent.clock import Clock
from edge_agent.state import State
from protocol import Event, PlanItem, SourcedItem
from protocol.messages import EventType

log = logging.getLogger(__name__)
# Events in flight (published, not yet acknowledged); the rest wait in SQLite, not in memory.
_WINDOW: Final = 50


class EventPublisher(Protocol):
    """What the outbox needs from the MQTT link."""

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        ...

    def publish_event(self, payload: bytes) -> mqtt.MQTTMessageInfo:
        """Publish one event at QoS 1."""
        ...


class Outbox:
    """Stores events durably and sends them in order; call `flush` from the agent's loop."""

    def __init__(self, state: State, link: EventPublisher, clock: Clock, boot_id: str) -> None:
        self._state = state
        self._link = link
        self._clock = clock
        self._boot_id = boot_id
        self._inflight: OrderedDict[int, mqtt.MQTTMessageInfo] = OrderedDict()

    def emit(
        self,
        kind: EventType,
        *,
        item: PlanItem | SourcedItem | None = None,
        item_id: str | None = None,
        plan_version: int | None = None,
        sha256: str | None = None,
        reason: str | None = None,
        detail: str | None = None,
    ) -> int:
        """Store an event in the outbox and return its seq (it is sent on the next flush)."""
        at = self._clock.now()

        def build(seq: int) -> str:
            event = Event(
                seq=seq,
                type=kind,
                at=at,
                boot_id=self._boot_id,
                item_id=item_id if item is None else item.item_id,
                bulletin_id=None if item is None else item.bulletin_id,
                plan_version=plan_version,
                sha256=sha256 if sha256 is not None or not isinstance(item, PlanItem) else item.asset.sha256,
                reason=reason,
                detail=None if detail is None else detail[:1024],
            )
            return json.dumps(event.to_json(), ensure_ascii=False)

        seq = self._state.add_event(build)
        subject = item.item_id if item is not None else item_id or (sha256 or "")[:12]
        log.info("event %s %s %s reason=%s", seq, kind, subject, reason)
        return seq

    def flush(self) -> int:
        """Mark acknowledged events sent and publish waiting ones; return how many are still unsent."""
        for seq, info in list(self._inflight.items()):
            if not info.is_published():
                continue
            self._state.mark_sent(seq)
            del self._inflight[seq]
        if not self._link.connected:
            return len(self._state.unsent_events(_WINDOW))
        waiting = self._state.unsent_events(_WINDOW)
        for seq, body in waiting:
            if seq in self._inflight:
                continue
            if len(self._inflight) >= _WINDOW:
                break
            info = self._link.publish_event(body.encode("utf-8"))
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                break
            self._inflight[seq] = info
        return len(waiting)
