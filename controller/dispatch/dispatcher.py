"""One planning run at a time: gather the inputs, plan (pure), store and publish what changed.

Owns the order of a run: expire, gather, plan; emergencies first (once per area topic where devices
listen there, else on each device's topic); then the changed plans are stored (a transaction per batch),
their new audio announced once per area topic, and the plans published a batch at a time with one wait
for the PUBACKs and marked published. It keeps the latest result for the UI's timelines. What a run reads is
controller.dispatch.inputs, where items go is controller.planning, how plans and commands are signed and
sent is controller.dispatch.publisher.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from controller import services
from controller.assets.store import AssetStore
from controller.config import TtsSettings
from controller.db import Database
from controller.dispatch.inputs import AssetUrls, gather
from controller.dispatch.listeners import area_listeners
from controller.dispatch.publisher import CommandSender, PlanPublisher, Publisher
from controller.dispatch.relay_inputs import RelayUrl
from controller.dispatch.speech import BulletinSpeech
from controller.planning import (
    DevicePlan,
    PlanningFailure,
    PlanningInputs,
    PlanningResult,
    PlanningRules,
    Schedule,
    ScheduleFile,
    Timeline,
    plan,
    plan_isolated,
    timeline,
)
from controller.tts.lexicon import Lexicon
from protocol import Command, PlanBody, Signer

log = logging.getLogger(__name__)

# Changed plans are stored, published and marked this many devices at a time (see replan).
_PUBLISH_BATCH: Final = 100


@dataclass(frozen=True)
class ReplanReport:
    """What one planning run did, for logs and tests."""

    published: tuple[str, ...]
    unchanged: int
    emergencies_sent: tuple[str, ...]
    deferred: int
    finished: tuple[int, ...]
    failed: tuple[int, ...] = ()  # bulletins left out of the run (see Dispatcher.planning_failures)


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
        relay_url: RelayUrl | None = None,
        relay_ttl: timedelta = timedelta(days=2),
    ) -> None:
        self._db = db
        self._schedules = schedule if isinstance(schedule, ScheduleFile) else ScheduleFile(schedule)
        self._urls = AssetUrls(asset_base_url, url_secret, url_ttl, relay_url, relay_ttl)
        self._clock = clock
        self._rules = rules or PlanningRules()
        self._lock = threading.Lock()
        self._speech = BulletinSpeech(db, store, tts, clock, lexicon or (lambda: None))
        self._plans = PlanPublisher(db, publisher, signer, clock)
        self._commands = CommandSender(db, publisher, signer, clock)
        self.last_result: PlanningResult | None = None  # the latest planning run, for timelines
        self.planning_failures: tuple[PlanningFailure, ...] = ()  # bulletins the latest run left out

    def render(self, bulletin_id: int) -> bool:
        """Give a bulletin its Vietnamese speech if it has text and none yet; True if audio was added."""
        return self._speech.render(bulletin_id)

    def replan(self) -> ReplanReport:
        """Plan every device from the current state; publish plans that changed and new emergencies."""
        with self._lock:
            now = self._clock()
            with self._db.session() as session:
                services.expire_bulletins(session, now)
                run = gather(session, now, schedules=self._schedules, rules=self._rules, urls=self._urls)
            result, failed = plan_isolated(run.inputs, now)
            self.last_result = result
            self.planning_failures = (*run.failures, *failed)
            emergencies = result.emergencies
            sent = self._commands.send_emergencies(
                emergencies, run.emergencies, now, area_listeners(run, emergencies)
            )
            # Per batch of devices, the changed plans are stored in one transaction (and their deliveries
            # with them); per device that was three sessions and two fsynced commits (issue 8).
            devices = list(result.devices)
            changed: list[tuple[str, PlanBody]] = []
            unchanged = 0
            for first in range(0, len(devices), _PUBLISH_BATCH):
                stored, same = self._store_changed(devices[first : first + _PUBLISH_BATCH], now)
                changed += stored
                unchanged += same
            # Then every listening agent hears of the new audio at once and starts fetching it, while the
            # plans follow a batch at a time, each batch with one wait for all its PUBACKs (issue 18).
            held = {device_id: plan.item_ids for device_id, plan in run.held.items()}
            self._commands.announce(changed, area_listeners(run, [d for d, _ in changed]), held)
            published: list[str] = []
            for first in range(0, len(changed), _PUBLISH_BATCH):
                sent_plans = self._plans.send(changed[first : first + _PUBLISH_BATCH])
                self._plans.mark_published(sent_plans)
                published += [device_id for device_id, _ in sent_plans]
        failures = tuple(f.bulletin_id for f in self.planning_failures)
        report = ReplanReport(
            tuple(published), unchanged, tuple(sent), len(result.deferred), run.finished, failures
        )
        if published or sent or run.finished:
            log.info(
                "planned: %d plan(s) published, %d unchanged, %d emergency command(s), %d deferred, done %s",
                len(published), unchanged, len(sent), len(result.deferred), list(run.finished),
            )  # fmt: skip
        return report

    def _store_changed(
        self, batch: list[DevicePlan], now: datetime
    ) -> tuple[list[tuple[str, PlanBody]], int]:
        """Store, in one transaction, the plans of `batch` that differ from the stored ones."""
        changed: list[tuple[str, PlanBody]] = []
        unchanged = 0
        with self._db.session() as session:
            _held = services.load_plans(session, (d.device.device_id for d in batch))
            for device_plan in batch:
                device_id = device_plan.device.device_id
                stored = services.current_plan(session, device_id)
                if stored is not None and stored.same_content(device_plan.plan_body(stored.version, now)):
                    unchanged += 1
                    continue
                body = device_plan.plan_body(services.next_plan_version(session, device_id), now)
                changed.append((device_id, body))
            services.save_plans(session, changed, now)
        return changed, unchanged

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
        return self._plans.republish()

    def stop_cancelled(self, bulletin_id: int) -> list[str]:
        """Stop a cancelled emergency where it may still be playing or repeating; returns those devices."""
        return self._commands.stop_cancelled(bulletin_id)

    def send_command(self, device_id: str, command: Command) -> bool:
        """Sign and send an operator's command to one device; True when the broker took it."""
        return self._commands.send(device_id, command)

    def send_commands(self, commands: Sequence[tuple[str, Command]]) -> list[bool]:
        """Sign and send each (device, command) at once with one wait; which the broker took."""
        return self._commands.send_each(commands)
