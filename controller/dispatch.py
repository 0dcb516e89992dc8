"""From the database to the speakers: render approved speech, plan, sign and publish (DESIGN §4).

Owns the glue between services, the planner, the asset store and the MQTT publisher: which bulletins
and devices go into a planning run (with their schedule options, each device's windows, and the published
items as pins so plans stay stable), when a bulletin is over, when a plan is new enough to publish,
sending emergencies as `play_now` commands (with their repeats and gap), `stop` for a cancelled emergency,
and keeping the latest result for village timelines. It must not decide *where* items go
(controller.planning does) nor touch SQL (controller.services does).
"""

import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Final, Protocol, cast

from sqlalchemy.orm import Session

from controller import services
from controller.assets.signing import sign_asset_url
from controller.assets.store import AssetStore
from controller.config import TtsSettings
from controller.db import Database
from controller.planning import (
    AudioVersion,
    BulletinSchedule,
    Pin,
    PlannedBulletin,
    PlannedDevice,
    PlanningFailure,
    PlanningInputs,
    PlanningResult,
    PlanningRules,
    Schedule,
    ScheduleFile,
    Timeline,
    guarded,
    plan,
    plan_isolated,
    schedule_from_options,
    timeline,
)
from controller.tts.errors import TtsError
from controller.tts.lexicon import Lexicon
from controller.tts.render import RenderResult, render_text
from protocol import Asset, Command, PlanBody, PlanItem, Priority, Signer, topics
from protocol.timefmt import parse_utc

log = logging.getLogger(__name__)

VIETNAMESE: Final = "vi"
_MAX_BULLETINS: Final = 500  # approved, unfinished bulletins of one commune: dozens in practice
_TERMINAL: Final = frozenset({"played", "skipped", "failed"})
# Changed plans are stored, published and marked this many devices at a time (see replan).
_PUBLISH_BATCH: Final = 100


class Publisher(Protocol):
    """What the dispatcher needs of the MQTT link."""

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, timeout: float | None = 5.0
    ) -> bool:
        """Publish at QoS 1 and say whether the broker took it."""
        ...


@dataclass(frozen=True)
class ReplanReport:
    """What one planning run did, for logs and tests."""

    published: tuple[str, ...]
    unchanged: int
    emergencies_sent: tuple[str, ...]
    deferred: int
    finished: tuple[int, ...]
    failed: tuple[int, ...] = ()  # bulletins left out of the run (see Dispatcher.planning_failures)


def _items_json(body: PlanBody | dict[str, object]) -> str:
    """A plan's identity for 'has it changed?': items, windows and volume, not the generation time."""
    data = body.to_json() if isinstance(body, PlanBody) else body
    return json.dumps({k: data.get(k) for k in ("items", "windows", "timezone", "volume")}, sort_keys=True)


def _over(options: BulletinSchedule, today: date, targets: set[str], states: Mapping[str, str]) -> bool:
    """Whether a bulletin is done: its last day has passed, or every target has played it (or given up)."""
    if options.recurring:
        return options.last_day is not None and today > options.last_day
    return bool(targets) and all(states.get(device) in _TERMINAL for device in targets)


def _pins(session: Session, devices: set[str]) -> Iterator[Pin]:
    """The items of the stored plans: the planner keeps them where they were published."""
    _held = services.load_plans(session, devices)  # held while the generator runs: no query per device
    for device_id in sorted(devices):
        stored = services.current_plan(session, device_id)
        for item in [] if stored is None else stored[1].get("items", []):
            yield Pin(device_id, item["item_id"], parse_utc(item["planned_start"]))


def register_render(session: Session, now: datetime, result: RenderResult, language: str) -> None:
    """Record a rendered or recorded asset in the database (the file is already in the store)."""
    services.register_asset(
        session, now, sha256=result.sha256, size=result.bytes, duration_ms=result.duration_ms,
        engine=result.engine, voice=result.voice, language=language,
        normalized_text=result.normalized_text or None,
    )  # fmt: skip


class Dispatcher:
    """Runs planning against the database and publishes what changed; safe to call from any thread."""

    def __init__(
        self,
        *,
        db: Database,
        publisher: Publisher,
        signer: Signer,
        schedule: Schedule | ScheduleFile,
        store: AssetStore,
        asset_base_url: str,
        url_secret: bytes,
        url_ttl: timedelta,
        tts: TtsSettings,
        clock: Callable[[], datetime],
        rules: PlanningRules | None = None,
        lexicon: Callable[[], Lexicon] | None = None,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._signer = signer
        self._schedules = schedule if isinstance(schedule, ScheduleFile) else ScheduleFile(schedule)
        self._schedule = self._schedules.default
        self._store = store
        self._asset_base_url = asset_base_url
        self._url_secret = url_secret
        self._url_ttl = url_ttl
        self._tts = tts
        self._clock = clock
        self._rules = rules or PlanningRules()
        self._lock = threading.Lock()
        # The commune's dictionary is read at each render, so an admin's edit counts from the next one.
        self._lexicon: Callable[[], Lexicon | None] = lexicon or (lambda: None)
        self._lock_commands = threading.Lock()
        self._last_command_seq: dict[str, int] = {}
        self.last_result: PlanningResult | None = None  # the latest planning run, for timelines
        self.planning_failures: tuple[PlanningFailure, ...] = ()  # bulletins the latest run left out
        self._input_failures: list[PlanningFailure] = []
        self._emergency_shape: dict[int, tuple[int, int]] = {}  # bulletin id → (repeat, gap_s) of play_now

    # -- speech ---------------------------------------------------------------------------------------

    def render(self, bulletin_id: int) -> bool:
        """Give a bulletin its Vietnamese speech if it has text and none yet; True if audio was added."""
        with self._db.session() as session:
            bulletin = services.get_bulletin(session, bulletin_id)
        if bulletin.status not in ("pending", "approved") or not bulletin.text.strip():
            return False
        if any(a.language == VIETNAMESE for a in bulletin.audio):
            return False
        try:
            result = render_text(bulletin.text, self._tts, self._store, lexicon=self._lexicon())
        except TtsError as exc:
            log.error("bulletin %s: speech could not be rendered: %s", bulletin_id, exc)
            return False
        with self._db.session() as session:
            now = self._clock()
            register_render(session, now, result, VIETNAMESE)
            services.attach_audio(
                session, bulletin_id, now, language=VIETNAMESE, kind="tts", asset_sha256=result.sha256
            )
        log.info("bulletin %s: speech %s by %s", bulletin_id, result.sha256[:12], result.engine)
        return True

    # -- planning -------------------------------------------------------------------------------------

    def replan(self) -> ReplanReport:
        """Plan every device from the current state; publish plans that changed and new emergencies."""
        with self._lock:
            now = self._clock()
            with self._db.session() as session:
                services.expire_bulletins(session, now)
                inputs, finished = self._inputs(session, now)
            result, failed = plan_isolated(inputs, now)
            self.last_result = result
            self.planning_failures = (*self._input_failures, *failed)
            published: list[str] = []
            unchanged = 0
            devices = list(result.devices)
            # In batches: store the batch's changed plans in one transaction, publish them, then mark
            # them published in another. Per device that was three sessions and two fsynced commits,
            # and agents waited for every device planned before them (issue 8: bench_dispatch.py).
            for first in range(0, len(devices), _PUBLISH_BATCH):
                changed: list[tuple[str, PlanBody]] = []
                batch = devices[first : first + _PUBLISH_BATCH]
                with self._db.session() as session:
                    _held = services.load_plans(session, (d.device.device_id for d in batch))
                    for device_plan in batch:
                        device_id = device_plan.device.device_id
                        stored = services.current_plan(session, device_id)
                        if stored is not None and _items_json(stored[1]) == _items_json(
                            device_plan.plan_body(stored[0], now)
                        ):
                            unchanged += 1
                            continue
                        body = device_plan.plan_body(services.next_plan_version(session, device_id), now)
                        services.save_plan(session, device_id, body, now)
                        changed.append((device_id, body))
                sent_plans = [
                    (device_id, body) for device_id, body in changed if self._send_plan(device_id, body)
                ]
                self._mark_published(sent_plans)
                published += [device_id for device_id, _ in sent_plans]
            sent = self._send_emergencies(result.emergencies, now)
        failures = tuple(f.bulletin_id for f in self.planning_failures)
        report = ReplanReport(
            tuple(published), unchanged, tuple(sent), len(result.deferred), tuple(finished), failures
        )
        if published or sent or finished:
            log.info(
                "planned: %d plan(s) published, %d unchanged, %d emergency command(s), %d deferred, done %s",
                len(published), unchanged, len(sent), len(result.deferred), list(finished),
            )  # fmt: skip
        return report

    def preview(self) -> PlanningResult:
        """The latest planning run, or an empty one before the first (for the UI's schedule view)."""
        return self.last_result or plan(PlanningInputs((), (), self._rules), self._clock())

    def village_timeline(self, village_id: str, start: datetime, end: datetime) -> Timeline:
        """The windows in [start, end) for a village's clusters, from the latest planning run."""
        with self._db.session() as session:
            devices = [d for d, village in services.device_villages(session).items() if village == village_id]
        return timeline(self.preview(), self._schedules.for_device("", village_id), devices, start, end)

    def republish(self) -> int:
        """Publish every stored plan again (after the broker lost its retained messages)."""
        count = 0
        with self._db.session() as session:
            stored = [(d, services.current_plan(session, d)) for d in services.device_villages(session)]
        for device_id, current in stored:
            if current is not None and self._publish_plan(device_id, PlanBody.from_json(current[1])):
                count += 1
        return count

    def _inputs(self, session: Session, now: datetime) -> tuple[PlanningInputs, list[int]]:
        """Gather the planner's inputs; finish bulletins that every target has played (or given up)."""
        villages = {v.id: v for v in services.list_villages(session)}
        devices = services.device_villages(session)
        planned_devices = tuple(
            PlannedDevice(
                device_id=device_id,
                languages=frozenset(villages[village_id].languages if village_id in villages else ()),
                schedule=self._schedules.for_device(device_id, village_id),
            )
            for device_id, village_id in devices.items()
        )
        known = set(devices)
        bulletins: list[PlannedBulletin] = []
        finished: list[int] = []
        self._emergency_shape.clear()
        self._input_failures = []
        today = now.astimezone(self._schedule.timezone).date()
        for bulletin in services.list_bulletins(session, status="approved", limit=_MAX_BULLETINS):
            if not bulletin.audio or bulletin.approved_at is None:
                continue  # still rendering: planned as soon as its speech is attached
            first_day = bulletin.approved_at.astimezone(self._schedule.timezone).date()
            read = partial(schedule_from_options, bulletin.schedule, first_day)
            options = guarded(bulletin.id, self._input_failures, read)
            if options is None:
                continue  # left out with its reason; every other bulletin is still planned
            states = {d.device_id: d.state for d in bulletin.deliveries}
            targets = set(services.target_devices(session, bulletin)) & known
            if _over(options, today, targets, states):
                services.finish(session, bulletin.id, now)
                finished.append(bulletin.id)
                continue
            # An emergency goes out once per device (its delivery row records the send); a window item
            # stays in the plan until the device reports it played, a recurring one until its last day.
            if bulletin.priority == "emergency":
                pending = {device for device in targets if device not in states}
                self._emergency_shape[bulletin.id] = (options.emergency_repeat, options.emergency_gap_s)
            elif options.recurring:
                pending = targets
            else:
                pending = {device for device in targets if states.get(device) != "played"}
            if not pending:
                continue
            versions = tuple(
                AudioVersion(audio.language, self._asset(session, audio.sha256, now))
                for audio in sorted(bulletin.audio, key=lambda a: a.position)
            )
            bulletins.append(
                PlannedBulletin(
                    bulletin_id=bulletin.id,
                    priority=cast(Priority, bulletin.priority),
                    approved_at=bulletin.approved_at,
                    device_ids=frozenset(pending),
                    versions=versions,
                    expires_at=bulletin.expires_at,
                    schedule=options,
                    revision=int(bulletin.schedule.get("revision", 0)),
                )
            )
        pins = tuple(_pins(session, known))
        return PlanningInputs(tuple(bulletins), planned_devices, self._rules, pins), finished

    def _asset(self, session: Session, sha256: str, now: datetime) -> Asset:
        """The asset with a signed URL whose expiry is fixed for the day, so plans stay byte-stable."""
        record = services.get_asset(session, sha256)
        day = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        url = sign_asset_url(self._asset_base_url, sha256, self._url_secret, day + self._url_ttl)
        return Asset(sha256=sha256, bytes=record.bytes, duration_ms=record.duration_ms, url=url)

    def _publish_plan(self, device_id: str, body: PlanBody) -> bool:
        if not self._send_plan(device_id, body):
            return False
        self._mark_published([(device_id, body)])
        return True

    def _send_plan(self, device_id: str, body: PlanBody) -> bool:
        """Sign and publish one plan; True when the broker acknowledged it."""
        payload = self._signer.seal(
            kind="plan", device=device_id, seq=body.version, body=body.to_json(), issued_at=self._clock()
        )
        if not self._publisher.publish(topics.device_topic(device_id, "plan"), payload, retain=True):
            log.warning(
                "plan v%s for %s not acknowledged by the broker; it is re-sent on reconnect",
                body.version,
                device_id,
            )
            return False
        return True

    def _mark_published(self, plans: list[tuple[str, PlanBody]]) -> None:
        """Note in one transaction that these plans went out to the broker."""
        if not plans:
            return
        with self._db.session() as session:
            _held = services.load_plans(session, (device_id for device_id, _ in plans))
            for device_id, body in plans:
                services.mark_plan_published(session, device_id, body.version, self._clock())

    def _send_emergencies(self, emergencies: Mapping[str, tuple[PlanItem, ...]], now: datetime) -> list[str]:
        sent: list[str] = []
        for device_id, items in sorted(emergencies.items()):
            for item in items:
                repeat, gap_s = self._emergency_shape.get(item.bulletin_id, (3, 5))
                command = Command(command="play_now", item=item, repeat=repeat, gap_s=gap_s)
                if self.send_command(device_id, command):
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
            prefix = f"b{bulletin_id}"
            targets = []
            for delivery in bulletin.deliveries:
                device = devices.get(delivery.device_id)
                playing = None if device is None or not device.metrics else device.metrics.get("playing")
                if playing is None or str(playing).split("-")[0].split(".")[0] == prefix:
                    targets.append(delivery.device_id)
        stopped = [d for d in sorted(targets) if self.send_command(d, Command(command="stop"))]
        if stopped:
            log.info("bulletin %s cancelled: stop sent to %s", bulletin_id, ", ".join(stopped))
        return stopped

    def send_command(self, device_id: str, command: Command) -> bool:
        """Sign and send a command; its seq is the send time in ms, and always above the last one sent.

        The time makes it increase across restarts; the per-device floor keeps two commands in the same
        millisecond (an emergency's language versions) or after a clock step back from being refused as
        replays.
        """
        issued = self._clock()
        with self._lock_commands:
            seq = max(int(issued.timestamp() * 1000), self._last_command_seq.get(device_id, 0) + 1)
            self._last_command_seq[device_id] = seq
        payload = self._signer.seal(
            kind="cmd", device=device_id, seq=seq, body=command.to_json(), issued_at=issued
        )
        return self._publisher.publish(topics.device_topic(device_id, "cmd"), payload)
