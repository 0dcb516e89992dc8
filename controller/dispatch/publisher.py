"""Signing and publishing plans and commands (DESIGN §5), and noting what the broker took.

Owns envelopes' sequence numbers (a plan's is its version; a command's the send time in ms, above the
last one sent on its topic), the retained plan topic, `play_now` for emergencies with their repeats and
gap, and `stop` for a cancelled emergency. Plans and emergencies go out as batches with one wait for all
the broker's PUBACKs. An emergency, and an announcement of new audio, goes once per area topic to the
devices there that listen to it (controller.dispatch.listeners decides which), and an emergency on each
other device's own topic. It must not plan or decide which devices get what.
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Final, Protocol

from controller import services
from controller.db import Database
from controller.dispatch.inputs import EmergencyShape
from controller.planning.item_ids import bulletin_of
from protocol import Asset, Command, PlanBody, PlanItem, Signer, canonical_json, topics

log = logging.getLogger(__name__)

# A batch's PUBACKs are awaited this long, plus a little per message.
_BATCH_WAIT_S: Final = 5.0
_BATCH_WAIT_PER_MESSAGE_S: Final = 0.01
REPUBLISH_BATCH: Final = 500

Message = tuple[str, bytes, bool]  # topic, payload, retain


class Publisher(Protocol):
    """What the dispatcher needs of the MQTT link."""

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, timeout: float | None = 5.0
    ) -> bool:
        """Publish at QoS 1 and say whether the broker took it."""
        ...

    def publish_many(self, messages: Sequence[Message], *, timeout: float = 5.0) -> list[bool]:
        """Publish at QoS 1 all at once, wait once for every PUBACK, and say which the broker took."""
        ...


def _batch_wait(count: int) -> float:
    return _BATCH_WAIT_S + _BATCH_WAIT_PER_MESSAGE_S * count


class _Sealing:
    """What both senders hold: the database, the MQTT publisher, the signing key and the clock."""

    def __init__(
        self, db: Database, publisher: Publisher, signer: Signer, clock: Callable[[], datetime]
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._signer = signer
        self._clock = clock


class PlanPublisher(_Sealing):
    """Signs plans, publishes them retained, and records which versions went out."""

    def send(self, plans: Sequence[tuple[str, PlanBody]]) -> list[tuple[str, PlanBody]]:
        """Sign and publish plans with one wait for all PUBACKs; returns those the broker acknowledged."""
        issued = self._clock()
        messages = [
            (
                topics.device_topic(device_id, "plan"),
                self._signer.seal(
                    kind="plan", device=device_id, seq=body.version, body=body.to_json(), issued_at=issued
                ),
                True,
            )
            for device_id, body in plans
        ]
        taken = self._publisher.publish_many(messages, timeout=_batch_wait(len(messages)))
        for (device_id, body), ok in zip(plans, taken, strict=True):
            if not ok:
                log.warning(
                    "plan v%s for %s not acknowledged by the broker; it is re-sent on reconnect",
                    body.version, device_id,
                )  # fmt: skip
        return [plan for plan, ok in zip(plans, taken, strict=True) if ok]

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
        held = [(device_id, current.body) for device_id, current in stored if current is not None]
        for first in range(0, len(held), REPUBLISH_BATCH):
            sent = self.send(held[first : first + REPUBLISH_BATCH])
            self.mark_published(sent)
            count += len(sent)
        return count


class CommandSender(_Sealing):
    """Signs and sends commands: operators' ones, emergencies' `play_now`, and `stop`."""

    def __init__(
        self, db: Database, publisher: Publisher, signer: Signer, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(db, publisher, signer, clock)
        self._lock = threading.Lock()
        self._last_seq: dict[str, int] = {}

    def _next_seq(self, stream: str, issued: datetime) -> int:
        """The send time in ms, and always above the last seq sent on this stream (a device or an area).

        The time makes it increase across restarts; the floor keeps two commands in the same millisecond
        (an emergency's language versions) or after a clock step back from being refused as replays.
        """
        with self._lock:
            seq = max(int(issued.timestamp() * 1000), self._last_seq.get(stream, 0) + 1)
            self._last_seq[stream] = seq
        return seq

    def _sealed(self, device_id: str, command: Command, issued: datetime) -> Message:
        seq = self._next_seq(device_id, issued)
        payload = self._signer.seal(
            kind="cmd", device=device_id, seq=seq, body=command.to_json(), issued_at=issued
        )
        return topics.device_topic(device_id, "cmd"), payload, False

    def send(self, device_id: str, command: Command) -> bool:
        """Sign and send a command to one device on its own topic; True when the broker took it."""
        topic, payload, _retain = self._sealed(device_id, command, self._clock())
        return self._publisher.publish(topic, payload)

    def send_each(self, commands: Sequence[tuple[str, Command]]) -> list[bool]:
        """Sign and send each (device, command) on the device's own topic, all at once with one wait.

        For a command every device needs at the same moment (a live session's start and end): one PUBACK
        wait per device would spread 200 devices over seconds. Says for each whether the broker took it.
        """
        if not commands:
            return []
        issued = self._clock()
        messages = [self._sealed(device_id, command, issued) for device_id, command in commands]
        return self._publisher.publish_many(messages, timeout=_batch_wait(len(messages)))

    def send_emergencies(
        self,
        emergencies: Mapping[str, tuple[PlanItem, ...]],
        shapes: Mapping[int, EmergencyShape],
        now: datetime,
        area_listeners: Mapping[str, tuple[str, ...]] | None = None,
    ) -> list[str]:
        """Send each device its emergencies as `play_now`, recording a delivery per command taken.

        `area_listeners` maps devices that listen to their area topics to those areas: each command
        goes once per area to all of them there (signed `targets`); every other device gets it on its
        own topic. Everything is published at once with one wait, and the deliveries of what the broker
        took are written in one transaction.
        """
        listeners = area_listeners or {}
        issued = self._clock()
        by_area: dict[tuple[str, bytes], list[tuple[str, PlanItem]]] = defaultdict(list)
        commands: dict[bytes, Command] = {}
        messages: list[Message] = []
        covers: list[list[tuple[str, PlanItem]]] = []  # the (device, item) pairs each message carries
        for device_id, items in sorted(emergencies.items()):
            for item in items:
                shape = shapes.get(item.bulletin_id, EmergencyShape())
                command = Command(command="play_now", item=item, repeat=shape.repeat, gap_s=shape.gap_s)
                areas = listeners.get(device_id, ())
                if areas:
                    key = canonical_json(command.to_json())
                    commands[key] = command
                    by_area[(areas[0], key)].append((device_id, item))
                else:
                    messages.append(self._sealed(device_id, command, issued))
                    covers.append([(device_id, item)])
        for (area, key), pairs in by_area.items():  # in the planner's order: Vietnamese first
            targets = [device_id for device_id, _ in pairs]
            payload = self._signer.seal_area(
                kind="cmd", area=area, targets=targets, seq=self._next_seq(f"area:{area}", issued),
                body=commands[key].to_json(), issued_at=issued,
            )  # fmt: skip
            messages.append((topics.area_topic(area), payload, False))
            covers.append(pairs)
        # The deliveries are written first: an agent's `received` may come back before the last PUBACK,
        # and the controller refuses events about a bulletin never sent to the device.
        if covers:
            with self._db.session() as session:
                services.plan_deliveries(
                    session,
                    now,
                    ((item.bulletin_id, d, item.item_id, now) for pairs in covers for d, item in pairs),
                )
        taken = self._publisher.publish_many(messages, timeout=_batch_wait(len(messages)))
        delivered = [pair for pairs, ok in zip(covers, taken, strict=True) if ok for pair in pairs]
        lost = [
            (item.bulletin_id, d)
            for pairs, ok in zip(covers, taken, strict=True)
            if not ok
            for d, item in pairs
        ]
        if lost:
            log.warning("%d emergency command(s) not taken by the broker; sent again next run", len(lost))
            with self._db.session() as session:
                services.unsend_deliveries(session, lost)
        if by_area:
            log.info(
                "emergency: %d area message(s) for %d device(s), %d on devices' own topics",
                len(by_area), sum(len(p) for p in by_area.values()), len(messages) - len(by_area),
            )  # fmt: skip
        return sorted(device_id for device_id, _ in delivered)

    def announce(
        self,
        plans: Sequence[tuple[str, PlanBody]],
        listeners: Mapping[str, tuple[str, ...]],
        held: Mapping[str, frozenset[str]],
    ) -> int:
        """Announce the audio of new items once per area topic, ahead of the plans; returns messages taken.

        For each listening device, the items of its new plan that its `held` one lacks; one `fetch` per
        area and asset, for the devices there whose plan brings it. An agent downloads what it lacks and
        reports `asset_ready` as for a plan, so the deliveries (stored with the plans, before this) move
        on as usual. A lost announcement costs nothing but time: the plan names the audio too.
        """
        targets: dict[tuple[str, str], list[str]] = defaultdict(list)
        assets: dict[str, Asset] = {}
        for device_id, body in plans:
            areas = listeners.get(device_id, ())
            if not areas:
                continue
            before = held.get(device_id, frozenset())
            for item in body.items:
                key = (areas[0], item.asset.sha256)
                if item.item_id not in before and device_id not in targets[key]:
                    targets[key].append(device_id)
                    assets[item.asset.sha256] = item.asset
        issued = self._clock()
        messages = [
            (
                topics.area_topic(area),
                self._signer.seal_area(
                    kind="cmd", area=area, targets=devices, seq=self._next_seq(f"area:{area}", issued),
                    body=Command(command="fetch", asset=assets[sha]).to_json(), issued_at=issued,
                ),
                False,
            )
            for (area, sha), devices in targets.items()
            if devices
        ]  # fmt: skip
        taken = (
            sum(self._publisher.publish_many(messages, timeout=_batch_wait(len(messages)))) if messages else 0
        )
        if messages:
            log.info("announced %d asset(s) in %d area message(s)", len(assets), len(messages))
        return taken

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
