"""The durable event outbox: every event is stored first, then published in seq order at QoS 1.

Owns event seqs (persistent and monotonic across restarts) and the rule that an event is marked sent only
once the broker acknowledged it (PUBACK), so nothing is lost while offline. At-least-once: the controller
drops duplicates by (device, seq). It must not decide which events happen.
"""

import json
import logging
from collections import OrderedDict
from datetime import datetime
from typing import Final, Protocol

import paho.mqtt.client as mqtt

from edge_agent.clock import Clock
from edge_agent.ratelimit import TokenBucket
from edge_agent.state import State
from protocol import Event, PlanItem, SourcedItem
from protocol.messages import DeadAirKind, EventSource, EventType

log = logging.getLogger(__name__)
# Events in flight (published, not yet acknowledged); the rest wait in SQLite, not in memory. It is also
# the largest burst the rate bound allows (after a quiet spell).
WINDOW: Final = 50
# Events per second on average (agent.toml `events_per_s`): a day of plays is a few hundred events, so a
# device needs well under 1/s; 50/s drains a week offline (~3,000 events) in a minute, while a commune of
# 12 clusters at full rate (600/s) is still far within what the controller stores (thousands per second).
DEFAULT_EVENTS_PER_S: Final = 50.0


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

    def __init__(
        self,
        state: State,
        link: EventPublisher,
        clock: Clock,
        boot_id: str,
        *,
        events_per_s: float = DEFAULT_EVENTS_PER_S,
    ) -> None:
        self._state = state
        self._link = link
        self._clock = clock
        self._boot_id = boot_id
        self._inflight: OrderedDict[int, mqtt.MQTTMessageInfo] = OrderedDict()
        self._bucket = TokenBucket(events_per_s, WINDOW)

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
        session: str | None = None,
        url: str | None = None,
        span: tuple[datetime, datetime] | None = None,
        dead_air: DeadAirKind | None = None,
        source: EventSource | None = None,
    ) -> int:
        """Store an event in the outbox and return its seq (it is sent on the next flush).

        Streams add `session` (a live session), `url`, and for gaps and dead air their `span` (from, to).
        """
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
                session=session,
                url=url,
                start=None if span is None else span[0],
                end=None if span is None else span[1],
                kind=dead_air,
                source=source,
            )
            return json.dumps(event.to_json(), ensure_ascii=False)

        seq = self._state.add_event(build, at)
        subject = item.item_id if item is not None else item_id or session or (sha256 or "")[:12]
        log.info("event %s %s %s reason=%s", seq, kind, subject, reason)
        return seq

    def flush(self) -> int:
        """Mark acknowledged events sent and publish waiting ones; return how many are still unsent."""
        for seq, info in list(self._inflight.items()):
            try:
                published = info.is_published()
            except (RuntimeError, ValueError):
                # paho never sent it (the link dropped as it was published): it stays unsent in the
                # outbox and goes out again; this used to raise and end the agent's loop.
                del self._inflight[seq]
                continue
            if not published:
                continue
            self._state.mark_sent(seq)
            del self._inflight[seq]
        if not self._link.connected:
            return len(self._state.unsent_events(WINDOW))
        waiting = self._state.unsent_events(WINDOW)
        allowed = self._bucket.available(self._clock.monotonic())
        sent = 0
        for seq, body in waiting:
            if seq in self._inflight:
                continue
            if len(self._inflight) >= WINDOW or sent >= allowed:
                break
            info = self._link.publish_event(body.encode("utf-8"))
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                break
            self._inflight[seq] = info
            sent += 1
        self._bucket.take(sent)
        return len(waiting)

    def resend(self, first: int) -> int:
        """Publish again every held event with seq >= `first` (a controller never stored them)."""
        count = self._state.resend_events(first)
        held = self._state.held_events()
        log.info("resending %d events from seq %s (the outbox holds %s)", count, first, held)
        return count
