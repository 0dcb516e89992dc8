"""Signing and publishing plans and commands (DESIGN §5), and noting what the broker took.

Owns envelopes' sequence numbers (a plan's is its version; a command's the send time in ms, above the
last one sent), the retained plan topic, `play_now` for emergencies with their repeats and gap, and `stop`
for a cancelled emergency. It must not plan or decide which devices get what.
"""

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from controller import services
from controller.db import Database
from controller.dispatch.inputs import EmergencyShape
from controller.planning.item_ids import bulletin_of
from protocol import Command, PlanBody, PlanItem, Signer, topics

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """What the dispatcher needs of the MQTT link."""

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, timeout: float | None = 5.0
    ) -> bool:
        """Publish at QoS 1 and say whether the broker took it."""
        ...


class PlanPublisher:
    """Signs plans, publishes them retained, and records which versions went out."""

    def __init__(
        self, db: Database, publisher: Publisher, signer: Signer, clock: Callable[[], datetime]
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._signer = signer
        self._clock = clock

    def send(self, device_id: str, body: PlanBody) -> bool:
        """Sign and publish one plan; True when the broker acknowledged it."""
        payload = self._signer.seal(
            kind="plan", device=device_id, seq=body.version, body=body.to_json(), issued_at=self._clock()
        )
        if not self._publisher.publish(topics.device_topic(device_id, "plan"), payload, retain=True):
            log.warning(
                "plan v%s for %s not acknowledged by the broker; it is re-sent on reconnect",
                body.version, device_id,
            )  # fmt: skip
            return False
        return True

    def mark_published(self, plans: Sequence[tuple[str, PlanBody]]) -> None:
        """Note in one transaction that these plans went out to the broker."""
        if not plans:
            return
        with self._db.session() as session:
            _held = services.load_plans(session, (device_id for device_id, _ in plans))
            for device_id, body in plans:
                services.mark_plan_published(session, device_id, body.version, self._clock())

    def republish(self) -> int:
        """Publish every stored plan again (after the broker lost its retained messages)."""
        count = 0
        with self._db.session() as session:
            stored = [(d, services.current_plan(session, d)) for d in services.device_villages(session)]
        for device_id, current in stored:
            if current is not None and self.send(device_id, current.body):
                self.mark_published([(device_id, current.body)])
                count += 1
        return count


class CommandSender:
    """Signs and sends commands: operators' ones, emergencies' `play_now`, and `stop`."""

    def __init__(
        self, db: Database, publisher: Publisher, signer: Signer, clock: Callable[[], datetime]
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._signer = signer
        self._clock = clock
        self._lock = threading.Lock()
        self._last_seq: dict[str, int] = {}

    def send(self, device_id: str, command: Command) -> bool:
        """Sign and send a command; its seq is the send time in ms, and always above the last one sent.

        The time makes it increase across restarts; the per-device floor keeps two commands in the same
        millisecond (an emergency's language versions) or after a clock step back from being refused as
        replays.
        """
        issued = self._clock()
        with self._lock:
            seq = max(int(issued.timestamp() * 1000), self._last_seq.get(device_id, 0) + 1)
            self._last_seq[device_id] = seq
        payload = self._signer.seal(
            kind="cmd", device=device_id, seq=seq, body=command.to_json(), issued_at=issued
        )
        return self._publisher.publish(topics.device_topic(device_id, "cmd"), payload)

    def send_emergencies(
        self,
        emergencies: Mapping[str, tuple[PlanItem, ...]],
        shapes: Mapping[int, EmergencyShape],
        now: datetime,
    ) -> list[str]:
        """Send each device its emergencies as `play_now`, recording a delivery per command taken."""
        sent: list[str] = []
        for device_id, items in sorted(emergencies.items()):
            for item in items:
                shape = shapes.get(item.bulletin_id, EmergencyShape())
                command = Command(command="play_now", item=item, repeat=shape.repeat, gap_s=shape.gap_s)
                if self.send(device_id, command):
                    with self._db.session() as session:
                        services.plan_delivery(
                            session, now, bulletin_id=item.bulletin_id, device_id=device_id,
                            item_id=item.item_id, planned_start=now,
                        )  # fmt: skip
                    sent.append(device_id)
        return sent

    def stop_cancelled(self, bulletin_id: int) -> list[str]:
        """Stop a cancelled emergency where it may still be playing or repeating; returns those devices.

        Window items need no command: the new plan leaves them out and the agent cancels a playing item that
        disappears from its plan. An emergency was sent as `play_now`, so each device that got it and is
        not busy with another item is sent `stop` (its heartbeat names what plays).
        """
        with self._db.session() as session:
            bulletin = services.get_bulletin(session, bulletin_id)
            if bulletin.status != "cancelled" or bulletin.priority != "emergency":
                return []
            devices = {d.id: d for d in services.list_devices(session, self._clock())}
            targets = []
            for delivery in bulletin.deliveries:
                device = devices.get(delivery.device_id)
                playing = None if device is None or not device.metrics else device.metrics.get("playing")
                if playing is None or bulletin_of(str(playing)) == bulletin_id:
                    targets.append(delivery.device_id)
        stopped = [d for d in sorted(targets) if self.send(d, Command(command="stop"))]
        if stopped:
            log.info("bulletin %s cancelled: stop sent to %s", bulletin_id, ", ".join(stopped))
        return stopped
