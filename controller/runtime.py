"""One controller process: database, keys, broker, MQTT link, dispatcher, jobs and the web server.

Owns start-up order, the background workers and shutdown. The work itself lives elsewhere: storage in
controller.services, planning in controller.planning, publishing in controller.dispatch, HTTP in web/.
"""

import logging
import signal
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from controller import services
from controller.assets import AssetStore
from controller.config import Settings
from controller.db import Database, upgrade
from controller.dispatch import Dispatcher, register_render
from controller.keys import KeyRing, load_or_create_keys
from controller.mqtt.broker import BrokerAccount, ManagedBroker, hash_password, tls_listener
from controller.mqtt.client import MqttLink, parse_broker_url
from controller.mqtt.ingest import Ingestor
from controller.planning import (
    PlanningResult,
    PlanningRules,
    Schedule,
    ScheduleFile,
    Timeline,
    load_schedule_file,
)
from controller.tts import RenderResult, commune_lexicon, render_recording, render_text
from controller.webserver import WebServer
from protocol import Command, Event, Signer
from web.app import create_app
from web.context import WebContext

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The real clock (everything below takes time as an argument)."""
    return datetime.now(UTC)


class Controller:
    """The central service of one deployment."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        rules: PlanningRules | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.db_url)
        self.db = Database(settings.db_url)
        self.keys: KeyRing = load_or_create_keys(settings.keys_dir)
        self.schedules: ScheduleFile = load_schedule_file(settings.schedule)
        self.schedule: Schedule = self.schedules.default
        self.store = AssetStore(settings.assets_dir)
        self.interval = timedelta(seconds=settings.mqtt.heartbeat_interval_s)
        self.broker: ManagedBroker | None = None
        password = settings.mqtt.password or ""
        if settings.mqtt.mode == "managed":
            host, port, _tls = parse_broker_url(settings.mqtt.url)
            self.broker = ManagedBroker(
                settings.broker_dir, host=host, port=port, tls=tls_listener(settings.mqtt, settings.data_dir)
            )
            password = self.keys.broker_password
        self.ingestor = Ingestor(self.db, heartbeat_interval=self.interval, on_event=self._on_event)
        self.link = MqttLink(
            url=settings.mqtt.url,
            username=settings.mqtt.username,
            password=password,
            client_id=f"{settings.mqtt.username}-{uuid.uuid4().hex[:8]}",
            handler=self.ingestor.handle_batch,
            on_connected=self._republish_on_connect,
            clock=clock,
        )
        self.dispatcher = Dispatcher(
            db=self.db,
            publisher=self.link,
            signer=Signer(self.keys.signing_key),
            schedule=self.schedules,
            store=self.store,
            asset_base_url=settings.asset_base_url,
            url_secret=self.keys.url_secret,
            url_ttl=timedelta(seconds=settings.http.asset_url_ttl_s),
            tts=settings.tts,
            clock=clock,
            rules=rules,
            lexicon=lambda: commune_lexicon(settings.data_dir),
        )
        # One planner at a time (it publishes versioned plans); speech renders beside it.
        self._planner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner")
        # One renderer: create, submit and approve each ask for speech; one after another, the second
        # and third find the first's result in the render cache instead of synthesizing it again.
        self._renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
        self._replan_queued = threading.Event()
        self.jobs = BackgroundScheduler(timezone=UTC)
        self.app = create_app(
            WebContext(
                db=self.db,
                settings=settings,
                clock=clock,
                assets=self.store,
                asset_url_secret=self.keys.url_secret,
                on_bulletin_changed=self.bulletin_changed,
                render_preview=self.render_preview,
                send_command=self.send_command,
                health=self.health,
                store_recording=self.store_recording,
                on_device_changed=self.device_changed,
                signing_public_keys=self.keys.public_keys_b64,
                planning_preview=self.planning_preview,
            )
        )
        self.web = WebServer(self.app, host=settings.http.host, port=settings.http.port)
        self._stopped = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the broker (managed mode), the MQTT link, the jobs and the web server; then plan."""
        if self.broker is not None:
            self.broker.start(self.broker_accounts())
        self.link.start()
        self._schedule_jobs()
        self.jobs.start()
        self.web.start()
        self.request_replan()
        log.info(
            "controller ready: web http://%s:%s, broker %s, schedule %s",
            self.settings.http.host, self.web.port, self.settings.mqtt.url, self.schedule.source,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop everything in the reverse order."""
        self._stopped.set()
        self.web.stop()
        self.jobs.shutdown(wait=False)
        self._renderer.shutdown(wait=True, cancel_futures=True)
        self._planner.shutdown(wait=True, cancel_futures=True)
        self.link.stop()
        if self.broker is not None:
            self.broker.stop()
        self.db.engine.dispose()

    def run_forever(self) -> None:
        """Start, then serve until SIGTERM or SIGINT."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._stopped.set())
        self.start()
        self._stopped.wait()
        log.info("controller stopping")
        self.stop()

    def _schedule_jobs(self) -> None:
        interval = self.interval.total_seconds()
        self.jobs.add_job(self._mark_silent, "interval", seconds=interval, id="silent-devices", coalesce=True)
        self.jobs.add_job(self.request_replan, "interval", minutes=15, id="replan-safety-net", coalesce=True)
        # Plan again shortly before each window opens and just after it closes (what missed it rolls on);
        # overrides may add windows of their own. Each run is idempotent, so shared times cost nothing.
        schedules = [self.schedules.default, *(o.schedule for o in self.schedules.overrides)]
        moments = sorted(
            {
                (name, clock, shift, s.timezone.key)
                for s in schedules
                for window in s.windows
                for name, clock, shift in (("before", window.start, -600), ("after", window.end, 60))
            }
        )
        for name, clock, shift, zone in moments:
            hours, minutes, seconds = (int(part) for part in clock.split(":"))
            at = (hours * 3600 + minutes * 60 + seconds + shift) % 86400
            self.jobs.add_job(
                self.request_replan,
                CronTrigger(hour=at // 3600, minute=at // 60 % 60, second=at % 60, timezone=zone),
                id=f"replan-{name}-{clock}-{zone}",
                coalesce=True,
            )

    # -- work -----------------------------------------------------------------------------------------

    def request_replan(self) -> Future[None] | None:
        """Queue a planning run unless one is already waiting (bursts of changes coalesce into one)."""
        if self._stopped.is_set() or self._replan_queued.is_set():
            return None
        self._replan_queued.set()
        return self._planner.submit(self._replan)

    def _republish_on_connect(self) -> None:
        """On every broker (re)connect, re-send the stored plans (a restarted broker may have lost them)."""
        if not self._stopped.is_set():
            self._planner.submit(self._republish)

    def _republish(self) -> None:
        try:
            count = self.dispatcher.republish()
        except Exception:
            log.exception("re-publishing the stored plans failed; the next planning run sends what changed")
            return
        log.info("re-published %d stored plan(s) after connecting to the broker", count)

    def _replan(self) -> None:
        self._replan_queued.clear()
        try:
            self.dispatcher.replan()
        except Exception:
            log.exception("planning run failed; the next change or the safety-net job retries it")

    def bulletin_changed(self, bulletin_id: int) -> None:
        """A bulletin was created, submitted, approved, cancelled …: render its speech if needed, re-plan."""
        self._renderer.submit(self._render_then_replan, bulletin_id)

    def _render_then_replan(self, bulletin_id: int) -> None:
        try:
            self.dispatcher.render(bulletin_id)
            self.dispatcher.stop_cancelled(bulletin_id)
        except Exception:
            log.exception("bulletin %s: rendering or stopping failed", bulletin_id)
        self.request_replan()

    def _on_event(self, device_id: str, event: Event) -> None:
        if event.type in ("finished", "skipped", "failed"):
            self.request_replan()

    def _mark_silent(self) -> None:
        with self.db.session() as session:
            services.mark_silent_devices_offline(session, self.clock(), self.interval)

    # -- hooks for the web layer ----------------------------------------------------------------------

    def render_preview(self, text: str) -> tuple[str, str, str]:
        """Render text for an operator's preview and keep the asset (it is likely to be submitted)."""
        lexicon = commune_lexicon(self.settings.data_dir)
        result = render_text(text, self.settings.tts, self.store, lexicon=lexicon)
        self._register(result, "vi")
        return result.normalized_text, result.sha256, result.engine

    def store_recording(self, data: bytes, language: str) -> str:
        """Normalize and store an uploaded recording; return its sha256."""
        result = render_recording(data, language, self.store)
        self._register(result, result.voice)  # the cleaned-up language tag ("Thái" → "thai")
        return result.sha256

    def _register(self, result: RenderResult, language: str) -> None:
        with self.db.session() as session:
            register_render(session, self.clock(), result, language)

    def send_command(self, device_id: str, command_json: Mapping[str, Any]) -> None:
        """Sign and publish an operator's command to one device."""
        command = Command.from_json(dict(command_json))
        if not self.dispatcher.send_command(device_id, command):
            raise ConnectionError(f"the broker did not take the {command.command} command for {device_id}")

    def planning_preview(self) -> PlanningResult:
        """The latest planning run (the UI's schedule view draws it)."""
        return self.dispatcher.preview()

    def village_timeline(self, village_id: str, start: datetime, end: datetime) -> Timeline:
        """Each window occurrence in [start, end) of a village: placed and deferred bulletins (for the UI)."""
        return self.dispatcher.village_timeline(village_id, start, end)

    def device_changed(self, _device_id: str) -> None:
        """A device was provisioned: let the managed broker accept its credentials."""
        if self.broker is not None:
            self.broker.reload(self.broker_accounts())
        self.request_replan()

    def broker_accounts(self) -> list[BrokerAccount]:
        """The controller's account plus every device's, for the managed broker."""
        controller = BrokerAccount(
            self.settings.mqtt.username, hash_password(self.keys.broker_password), "controller"
        )
        with self.db.session() as session:
            return [controller, *services.broker_accounts(session)]

    def health(self) -> dict[str, Any]:
        """Liveness of the parts, for GET /api/v1/health."""
        try:
            with self.db.session() as session:
                services.list_villages(session)
            db_state = "ok"
        except Exception as exc:  # the health endpoint must answer even when the database does not
            db_state = f"error: {type(exc).__name__}"
        return {
            "db": db_state,
            "mqtt": "connected" if self.link.connected else "disconnected",
            "ingest": self.ingestor.counters(),
            "ingest_errors": self.link.handler_errors,
        }
