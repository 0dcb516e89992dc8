"""One controller process: database, keys, broker, MQTT link, dispatcher, jobs and the web server.

Owns start-up order, the background workers, shutdown, and what this process does as scheduler leader or
follower. The work itself lives elsewhere: storage in controller.services, planning in controller.planning,
publishing in controller.dispatch, HTTP in web/, the election in controller.leader.

Several processes may share one PostgreSQL and one external broker. Every one serves the web and API,
ingests its share of the MQTT uplink and sends operators' commands. Only the leader runs the jobs and the
planner (which publishes plans and emergencies); a follower that changed something asks the leader to
re-plan. A newly elected leader plans and re-publishes the stored plans at once, so nothing a dead leader
planned or was asked for is lost.
"""

import hashlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from controller import services
from controller.assets import AssetStore
from controller.children import Supervisor
from controller.config import Settings
from controller.datadir import make_data_dir
from controller.db import Database, upgrade
from controller.dispatch import Dispatcher, register_render
from controller.fencing import FencedDatabase, LeaderFence
from controller.keys import KeyRing, load_or_create_keys
from controller.leader import leadership_for
from controller.live import LiveDesk
from controller.monitoring import Monitoring
from controller.mqtt.account_sync import AccountSync
from controller.mqtt.accounts import BrokerAccount, hash_password
from controller.mqtt.broker import ManagedBroker, tls_listener
from controller.mqtt.client import MqttLink
from controller.mqtt.event_gaps import GRACE, EventGaps
from controller.mqtt.ingest import Ingestor
from controller.mqtt.ingest_process import IngestProcess
from controller.planning import (
    PlanningResult,
    PlanningRules,
    Schedule,
    ScheduleFile,
    Timeline,
    load_schedule_file,
)
from controller.rollout_job import RolloutJob
from controller.services import cap_sources
from controller.services.event_seqs import stored_seq_below
from controller.services.stations import list_stations
from controller.services.uptime_rollup import REFRESH_EVERY as UPTIME_ROLLUP_EVERY
from controller.speech_upgrade import upgrade_speech
from controller.streaming import StationUrls, StreamingServer
from controller.systemd import Watchdog
from controller.tts import RenderResult, commune_lexicon, render_recording, render_text
from controller.usecases.live import LiveUseCases
from loaxa.workers import Workers
from protocol import Command, Event, Signer
from protocol.broker_url import parse_broker_url
from web.app import create_app
from web.context import WebContext
from web.server import WebServer

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The real clock (everything below takes time as an argument)."""
    return datetime.now(UTC)


def default_client_id(settings: Settings) -> str:
    """A client id that stays the same across restarts of this process and differs between processes.

    The same id on restart lets the broker hand back the session and the messages it kept meanwhile;
    two processes on one host differ in data_dir or HTTP port.
    """
    place = hashlib.blake2s(f"{settings.data_dir.resolve()}:{settings.http.port}".encode(), digest_size=4)
    return f"{settings.mqtt.username}-{socket.gethostname()}-{place.hexdigest()}"


def _mqtt_state(link: MqttLink) -> str:
    """MQTT for health: connected only while the broker acknowledges (a frozen one keeps TCP open)."""
    if not link.connected:
        return "disconnected"
    return "connected" if link.responsive() else "unresponsive"


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
        make_data_dir(settings)
        upgrade(settings.db_url)
        self.db = Database(settings.db_url)
        self.keys: KeyRing = load_or_create_keys(settings.keys_dir)
        # Hashed once: a fresh salt per call would make every comparison of the broker accounts differ.
        self._controller_account = BrokerAccount(
            settings.mqtt.username, hash_password(self.keys.broker_password), "controller"
        )
        self.schedules: ScheduleFile = load_schedule_file(settings.schedule)
        self.schedule: Schedule = self.schedules.default
        self._placements: dict[str, str] | None = None  # device → village, as the last look saw them
        self.store = AssetStore(settings.assets_dir)
        self.interval = timedelta(seconds=settings.mqtt.heartbeat_interval_s)
        self.broker: ManagedBroker | None = None
        self.broker_supervisor: Supervisor | None = None
        self.account_sync: AccountSync | None = None
        password = settings.mqtt.password or ""
        link_url = settings.mqtt.url
        if settings.mqtt.mode == "managed":
            host, port, _tls = parse_broker_url(settings.mqtt.url)
            self.broker = ManagedBroker(
                settings.broker_dir, host=host, port=port, tls=tls_listener(settings.mqtt, settings.data_dir)
            )
            self.broker_supervisor = Supervisor(self.broker)
            self.account_sync = AccountSync(
                self.broker, self._accounts_changed_elsewhere, interval_s=settings.mqtt.account_check_s
            )
            password = self.keys.broker_password
            link_url = self.broker.controller_url
        self.streaming = StreamingServer(settings, self.keys.url_secret)
        self.event_gaps = EventGaps(self._stored_seq_below)
        self.ingestor: Ingestor | IngestProcess = (
            IngestProcess(settings.db_url, heartbeat_interval=self.interval, on_event=self._on_event)
            if settings.mqtt.ingest_process
            else Ingestor(self.db, heartbeat_interval=self.interval, on_event=self._on_event)
        )
        self.link = MqttLink(
            url=link_url,
            username=settings.mqtt.username,
            password=password,
            client_id=settings.mqtt.client_id or default_client_id(settings),
            handler=self.ingestor.handle_batch,
            on_connected=self._republish_on_connect,
            clock=clock,
        )
        # What the planner thread publishes (plans, emergencies) is refused once this process is no longer
        # the leader; operators' commands from the web threads go out from any process.
        self._fence = LeaderFence(self.link, lambda: self.leadership.is_leader)
        self.dispatcher = Dispatcher(
            db=FencedDatabase(self.db, self._fence),
            publisher=self._fence,
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
            relay_url=self.streaming.relay_url,
            relay_ttl=timedelta(seconds=settings.stream.listener_token_ttl_s),
        )
        self.live = (
            LiveUseCases(
                self.db,
                clock,
                lambda hooks: LiveDesk(
                    self.streaming, self.dispatcher.send_commands, self.keys.url_secret, clock, hooks
                ),
                self.store_recording,
                two_person=settings.live_two_person,
            )
            if settings.stream.mode in ("managed", "external")
            else None
        )
        self.monitoring = Monitoring(self)
        self.rollouts = RolloutJob(self.db, self.dispatcher.send_command, clock)
        self.workers = Workers(
            self.dispatcher,
            lambda: self.leadership,
            self._fence.planning,
            upgrade_speech=self._upgrade_speech,
            on_planned=lambda ok: self.monitoring.planned(ok=ok),
        )
        self.leadership = leadership_for(
            settings.db_url,
            name=settings.leader.name,
            retry_s=settings.leader.retry_s,
            check_s=settings.leader.check_s,
            on_elected=self._on_elected,
            on_demoted=self._on_demoted,
            on_replan_requested=self.request_replan,
        )
        self.jobs = BackgroundScheduler(timezone=UTC)
        self.context = WebContext(
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
            metrics=self.monitoring.registry,
            on_station_changed=self.station_changed,
            live=self.live,
        )
        self.app = create_app(self.context)
        http, proxies = settings.http, settings.trusted_proxies
        self.web = WebServer(self.app, host=http.host, port=http.port, trusted_proxies=proxies)
        self.systemd = Watchdog()
        self._stopped = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the broker (managed mode), the MQTT link and the web server; seek leadership, which plans."""
        if self.broker is not None and self.broker_supervisor is not None:
            self.broker.reload(self.broker_accounts())  # only writes the files: mosquitto is not running
            self.broker_supervisor.start()
        self.streaming.start(self._stations())
        if self.account_sync is not None:
            self.account_sync.start()
        self.ingestor.start()
        self.link.start()
        self._schedule_jobs()
        self.jobs.start(paused=True)  # resumed while this process is the leader
        self.web.start()
        self.leadership.start()  # a lone process is elected here, and its election plans at once
        self.systemd.ready(self.settings.http.host, self.web.port)
        log.info(
            "controller ready (%s): web http://%s:%s, broker %s, schedule %s",
            self.leadership.role, self.settings.http.host, self.web.port, self.settings.mqtt.url,
            self.schedule.source,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop everything in the reverse order; leadership is given up once nothing plans any more."""
        self._stopped.set()
        self.systemd.stopping()
        self.web.stop()
        if self.live is not None:
            self.live.desk.stop_all()
        self.jobs.shutdown(wait=False)
        self.workers.stop()
        self.leadership.stop()
        self.link.stop()
        self.ingestor.stop()
        if self.account_sync is not None:
            self.account_sync.stop()
        if self.broker_supervisor is not None:
            self.broker_supervisor.stop()
        self.streaming.stop()
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
        self.jobs.add_job(self._resync_gaps, "interval", seconds=GRACE.total_seconds(), id="event-gaps")
        if self.account_sync is None:  # a managed broker's account watcher already sees moves (areas)
            look = self.settings.mqtt.account_check_s
            watch = self._watch_placements
            self.jobs.add_job(watch, "interval", seconds=look, id="placements", coalesce=True)
        # The pages above a commune read each village's uptime from this rollup instead of every span.
        every = UPTIME_ROLLUP_EVERY.total_seconds()
        self.jobs.add_job(self._roll_up_uptime, "interval", seconds=every, id="uptime-rollup", coalesce=True)
        # Speech read by a fallback voice while offline is read again once a better voice answers.
        self.jobs.add_job(self.workers.upgrade_speech, "interval", minutes=10, id="better-speech")
        # Over-the-air updates move wave by wave; a look every heartbeat interval is often enough.
        self.jobs.add_job(self.rollouts.tick, "interval", seconds=interval, id="rollouts", coalesce=True)
        # CAP sources with a URL are read by the leader only, so two processes never take one alert twice.
        cap_every = self.settings.cap.poll_s
        self.jobs.add_job(self._poll_cap, "interval", seconds=cap_every, id="cap-poll", coalesce=True)
        self.monitoring.schedule(self.jobs)
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

    # -- leadership -----------------------------------------------------------------------------------

    def _on_elected(self) -> None:
        """Now the leader: run the jobs, plan at once and re-send the stored plans.

        The planning run picks up whatever changed while no process led (followers' requests went
        nowhere); the re-publish sends plans a dead leader saved but may not have published. Both are
        idempotent: versions come from the database, and agents ignore a plan whose seq they hold.
        """
        if self._stopped.is_set():
            return
        self.jobs.resume()
        self.request_replan()
        self.workers.republish("after being elected scheduler leader")

    def _on_demoted(self, reason: str) -> None:
        """No longer the leader: stop the jobs (the fence already refuses the planner's publishes)."""
        if not self._stopped.is_set():
            self.jobs.pause()
        log.warning("scheduler jobs paused until this process leads again (%s)", reason)

    # -- work -----------------------------------------------------------------------------------------

    def request_replan(self) -> Future[None] | None:
        """Queue a planning run here if leader (bursts coalesce into one), else ask the leader for one."""
        return self.workers.request_replan()

    def bulletin_changed(self, bulletin_id: int) -> None:
        """A bulletin was created, submitted, approved, cancelled …: render its speech if needed, re-plan."""
        self.workers.bulletin_changed(bulletin_id)

    def _republish_on_connect(self) -> None:
        """On every broker (re)connect, re-send the stored plans (a restarted broker may have lost them)."""
        if not self._stopped.is_set() and self.leadership.is_leader:
            self.workers.republish("after connecting to the broker")

    def _upgrade_speech(self) -> int:
        upgrades = upgrade_speech(
            FencedDatabase(self.db, self._fence).session, self.store, self.settings.tts, self.clock,
            lexicon=commune_lexicon(self.settings.data_dir),
        )  # fmt: skip
        return len(upgrades)

    def _on_event(self, device_id: str, event: Event) -> None:
        self.event_gaps.seen(device_id, event.seq, self.clock())
        if event.type in ("finished", "skipped", "failed"):
            self.request_replan()

    def _stored_seq_below(self, device_id: str, seq: int) -> int | None:
        with self.db.session() as session:
            return stored_seq_below(session, device_id, seq)

    def _resync_gaps(self) -> None:
        """Ask devices for the events the controller never stored (controller.mqtt.event_gaps)."""
        for device_id, first in self.event_gaps.due(self.clock()):
            sent = self.dispatcher.send_command(device_id, Command(command="resync", events_from=first))
            log.warning("events of %s missing from seq %s: resync (taken: %s)", device_id, first, sent)

    def _poll_cap(self) -> None:
        """Read every polled CAP source once (a failing source is counted on its page, not raised)."""
        if not self.leadership.is_leader:
            return
        with self.db.session() as session:
            polled = cap_sources.polled_sources(session)
        for source_id, url in polled:
            try:
                self.context.cap_intake.poll(source_id, url)
            except Exception:
                log.exception("CAP source %s: poll failed; the next poll tries again", source_id)

    def _watch_placements(self) -> None:
        """Plan again when another process (`loaxa device move|revoke`, a second web process) moved a device.

        A change made through this process re-plans at once (device_changed); this look, every few seconds
        on the leader, catches the others, whose plans and area topics would otherwise wait for the
        15-minute safety net. With a managed broker it is not scheduled: the account watcher reads the same
        rows (each account carries its village's area) and re-plans when they differ.
        """
        if not self.leadership.is_leader:
            return
        with self.db.session() as session:
            placements = services.device_villages(session)
        if self._placements is not None and placements != self._placements:
            log.info("devices moved, added or revoked in the registry: planning again")
            self.request_replan()
        self._placements = placements

    def _mark_silent(self) -> None:
        if not self.leadership.is_leader:
            return
        with self.db.session() as session:
            services.mark_silent_devices_offline(session, self.clock(), self.interval)

    def _roll_up_uptime(self) -> None:
        if not self.leadership.is_leader:
            return
        with self.db.session() as session:
            services.refresh_village_uptime(session, self.clock())

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
        """A device was provisioned, moved or revoked: the managed broker takes its login now, re-plan."""
        if self.broker is not None:
            self.broker.sync(self.broker_accounts())
        self.request_replan()

    def station_changed(self, _station_id: int) -> None:
        """A station was added, changed or retired: relay mounts follow, relay items are planned again."""
        self.streaming.set_stations(self._stations())
        self.request_replan()

    def _stations(self) -> list[StationUrls]:
        with self.db.session() as session:
            return [StationUrls(s.id, s.urls) for s in list_stations(session)]

    def _accounts_changed_elsewhere(self) -> list[BrokerAccount]:
        """The accounts for the watcher; a difference means another process changed a device: re-plan."""
        accounts = self.broker_accounts()
        if self.broker is not None and self.broker.accounts != accounts:
            self.request_replan()
        return accounts

    def broker_accounts(self) -> list[BrokerAccount]:
        """The controller's account plus every device's not revoked, for the managed broker."""
        with self.db.session() as session:
            return [self._controller_account, *services.broker_accounts(session)]

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
            "mqtt": _mqtt_state(self.link),
            "role": self.leadership.role,
            "ingest": self.ingestor.counters(),
            "event_gaps": self.event_gaps.health(),
            "ingest_errors": self.link.handler_errors,
            "ingest_backlog": self.link.backlog,
            "ingest_children_lost": self.ingestor.lost if isinstance(self.ingestor, IngestProcess) else 0,
            "planning": self.workers.health(),
            **({"broker": self.broker_supervisor.health()} if self.broker_supervisor else {}),
            "streaming": self.streaming.health(),
        }
