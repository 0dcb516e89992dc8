"""From the database to the speakers: render approved speech, plan, sign and publish (DESIGN §4).

Owns the glue between services, the planner, the asset store and the MQTT publisher: which bulletins
and devices go into a planning run, when a plan is new enough to publish, and sending emergencies as
`play_now` commands. It must not decide *where* items go (controller.planning does) nor touch SQL
(controller.services does).
"""

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol, cast

from sqlalchemy.orm import Session

from controller import services
from controller.assets.signing import sign_asset_url
from controller.assets.store import AssetStore
from controller.config import TtsSettings
from controller.db import Database
from controller.planning import (
    AudioVersion,
    PlannedBulletin,
    PlannedDevice,
    PlanningInputs,
    PlanningRules,
    Schedule,
    plan,
)
from controller.tts.errors import TtsError
from controller.tts.render import RenderResult, render_text
from protocol import Asset, Command, PlanBody, PlanItem, Priority, Signer, topics

log = logging.getLogger(__name__)

VIETNAMESE: Final = "vi"
_MAX_BULLETINS: Final = 500  # approved, unfinished bulletins of one commune: dozens in practice
_TERMINAL: Final = frozenset({"played", "skipped", "failed"})


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


def _items_json(body: PlanBody | dict[str, object]) -> str:
    """A plan's identity for 'has it changed?': items, windows and volume, not the generation time."""
    data = body.to_json() if isinstance(body, PlanBody) else body
    return json.dumps({k: data.get(k) for k in ("items", "windows", "timezone", "volume")}, sort_keys=True)


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
        schedule: Schedule,
        store: AssetStore,
        asset_base_url: str,
        url_secret: bytes,
        url_ttl: timedelta,
        tts: TtsSettings,
        clock: Callable[[], datetime],
        rules: PlanningRules | None = None,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._signer = signer
        self._schedule = schedule
        self._store = store
        self._asset_base_url = asset_base_url
        self._url_secret = url_secret
        self._url_ttl = url_ttl
        self._tts = tts
        self._clock = clock
        self._rules = rules or PlanningRules()
        self._lock = threading.Lock()

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
            result = render_text(bulletin.text, self._tts, self._store)
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
            result = plan(inputs, now)
            published: list[str] = []
            unchanged = 0
            for device_plan in result.devices:
                device_id = device_plan.device.device_id
                with self._db.session() as session:
                    stored = services.current_plan(session, device_id)
                    if stored is not None and _items_json(stored[1]) == _items_json(
                        device_plan.plan_body(stored[0], now)
                    ):
                        unchanged += 1
                        continue
                    body = device_plan.plan_body(services.next_plan_version(session, device_id), now)
                    services.save_plan(session, device_id, body, now)
                if self._publish_plan(device_id, body):
                    published.append(device_id)
            sent = self._send_emergencies(result.emergencies, now)
        report = ReplanReport(tuple(published), unchanged, tuple(sent), len(result.deferred), tuple(finished))
        if published or sent or finished:
            log.info(
                "planned: %d plan(s) published, %d unchanged, %d emergency command(s), %d deferred, done %s",
                len(published), unchanged, len(sent), len(result.deferred), list(finished),
            )  # fmt: skip
        return report

    def republish(self) -> int:
        """Publish every stored plan again (after the broker lost its retained messages)."""
        count = 0
        with self._db.session() as session:
            stored = [
                (d.id, services.current_plan(session, d.id))
                for d in services.list_devices(session, self._clock())
            ]
        for device_id, current in stored:
            if current is not None and self._publish_plan(device_id, PlanBody.from_json(current[1])):
                count += 1
        return count

    def _inputs(self, session: Session, now: datetime) -> tuple[PlanningInputs, list[int]]:
        """Gather the planner's inputs; finish bulletins that every target has played (or given up)."""
        villages = {v.id: v for v in services.list_villages(session)}
        devices = services.list_devices(session, now)
        planned_devices = tuple(
            PlannedDevice(
                device_id=d.id,
                languages=frozenset(villages[d.village_id].languages if d.village_id in villages else ()),
                schedule=self._schedule,
            )
            for d in devices
        )
        known = {d.id for d in devices}
        bulletins: list[PlannedBulletin] = []
        finished: list[int] = []
        for bulletin in services.list_bulletins(session, status="approved", limit=_MAX_BULLETINS):
            if not bulletin.audio or bulletin.approved_at is None:
                continue  # still rendering: planned as soon as its speech is attached
            states = {d.device_id: d.state for d in bulletin.deliveries}
            targets = set(services.target_devices(session, bulletin)) & known
            if targets and all(states.get(device) in _TERMINAL for device in targets):
                services.finish(session, bulletin.id, now)
                finished.append(bulletin.id)
                continue
            # An emergency goes out once per device (its delivery row records the send); a window item
            # stays in the plan until the device reports it played.
            if bulletin.priority == "emergency":
                pending = {device for device in targets if device not in states}
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
                )
            )
        return PlanningInputs(tuple(bulletins), planned_devices, self._rules), finished

    def _asset(self, session: Session, sha256: str, now: datetime) -> Asset:
        """The asset with a signed URL whose expiry is fixed for the day, so plans stay byte-stable."""
        record = services.get_asset(session, sha256)
        day = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        url = sign_asset_url(self._asset_base_url, sha256, self._url_secret, day + self._url_ttl)
        return Asset(sha256=sha256, bytes=record.bytes, duration_ms=record.duration_ms, url=url)

    def _publish_plan(self, device_id: str, body: PlanBody) -> bool:
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
        with self._db.session() as session:
            services.mark_plan_published(session, device_id, body.version, self._clock())
        return True

    def _send_emergencies(self, emergencies: Mapping[str, tuple[PlanItem, ...]], now: datetime) -> list[str]:
        sent: list[str] = []
        for device_id, items in sorted(emergencies.items()):
            for item in items:
                if self.send_command(device_id, Command(command="play_now", item=item)):
                    with self._db.session() as session:
                        services.plan_delivery(
                            session, now, bulletin_id=item.bulletin_id, device_id=device_id,
                            item_id=item.item_id, planned_start=now,
                        )  # fmt: skip
                    sent.append(device_id)
        return sent

    def send_command(self, device_id: str, command: Command) -> bool:
        """Sign and send a command; its seq is the send time in ms, increasing across restarts."""
        issued = self._clock()
        seq = int(issued.timestamp() * 1000)
        payload = self._signer.seal(
            kind="cmd", device=device_id, seq=seq, body=command.to_json(), issued_at=issued
        )
        return self._publisher.publish(topics.device_topic(device_id, "cmd"), payload)
