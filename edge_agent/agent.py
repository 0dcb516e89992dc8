"""The edge agent daemon: one loop that ties the link, the gate, the schedule, playback and the outbox.

Owns the order of things and the play in progress. Only the loop thread acts: paho's thread and the
download worker hand their work over through the inbox, and the programme (plan, emergencies, progress,
cache) is changed here only. It must not build topic strings, parse envelopes or speak SQL.
"""

import logging
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Final

from edge_agent.adapters import agent_version, make_amplifier, make_player
from edge_agent.amplifier import Amplifier, warm_before
from edge_agent.clock import Clock, SystemClock
from edge_agent.clocksync import ClockCheck
from edge_agent.config import AgentConfig
from edge_agent.downloader import Downloader, asset_path, evict, sweep
from edge_agent.heartbeat import Heartbeats, Snapshot
from edge_agent.intake import Intake
from edge_agent.live import LiveDesk, LiveSession
from edge_agent.mqtt import Link
from edge_agent.outbox import Outbox
from edge_agent.playback import Playback
from edge_agent.player import Player, Track
from edge_agent.programme import Programme
from edge_agent.reporting import report_held, report_notes, report_outcome, skip_unsupported
from edge_agent.schedule import Decision
from edge_agent.starts import Starter
from edge_agent.state import State
from edge_agent.stream import StreamJob, StreamSettings
from edge_agent.systemd import Systemd
from edge_agent.tone import write_tone
from edge_agent.update import mark_healthy, request_update
from protocol import Asset, Command, PlanItem, SourcedItem, StreamSource, Verifier, topics
from protocol.signing import SignatureCheck, load_public_key_b64

log = logging.getLogger(__name__)
# The loop wakes at least this often even when nothing is due (clock jumps, watchdog).
_MAX_SLEEP_S: Final = 5.0
# Missing assets are asked for again this often (the downloader's cooldown spaces out failing ones).
_FETCH_EVERY_S: Final = 10.0
# The exit code when the MQTT client stopped reconnecting (systemd's Restart=always starts a fresh one).
EXIT_MQTT_STUCK: Final = 3


class Agent:
    """The daemon. `run()` blocks until `stop()` (or a liveness failure: see `exit_code`)."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Clock | None = None,
        player: Player | None = None,
        amplifier: Amplifier | None = None,
        signature_check: SignatureCheck | None = None,
    ) -> None:
        self.config = config
        self.version = agent_version()
        self.boot_id = uuid.uuid4().hex
        self.started = threading.Event()
        self._clock = clock or SystemClock()
        self._born = self._clock.monotonic()
        self._state = State(config.state_dir / "agent.sqlite3")
        self._clock_check = ClockCheck(config.clock_source, self._state)
        self._held_reported: set[str] = set()
        self.exit_code = 0
        keys = [load_public_key_b64(key) for key in config.public_keys]
        self._verifier = Verifier(keys, config.device_id, check=signature_check)
        self._intake = Intake(self._verifier, self._state)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._link = Link(
            config,
            self._clock,
            boot_id=self.boot_id,
            version=self.version,
            next_bdseq=self._state.next_bdseq,
            on_message=self._on_message,
            on_change=self._wake.set,
            on_area_message=self._on_area_message,
        )
        self._outbox = Outbox(
            self._state, self._link, self._clock, self.boot_id, events_per_s=config.events_per_s
        )
        self._live = LiveDesk(self._outbox)
        if self._state.rebuilt is not None:  # the retained plan fills the new state; say what was lost
            self._outbox.emit("failed", reason="state_rebuilt", detail=self._state.rebuilt)
        self._downloader = Downloader(
            config.cache_dir,
            self._on_downloaded,
            attempts=config.download_attempts,
            backoff_s=config.download_backoff_s,
            clock=self._clock,
        )
        self._player = player or make_player(config, self._clock)
        self._amplifier = amplifier or make_amplifier(config, self._clock)
        self._systemd = Systemd()
        self._programme = Programme(self._state, config.cache_dir)
        self._current: Playback | None = None
        self._starter = Starter(
            self._player,
            self._amplifier,
            self._clock,
            self._wake,
            dead_air_s=config.player.dead_air_s,
            settings=StreamSettings(playout_delay_s=config.player.playout_delay_s),
        )
        self._tones: list[Track] = []
        self._fetch_pending = False
        self._next_fetch = 0.0
        self._heartbeats = Heartbeats(config, self._clock, boot_id=self.boot_id, version=self.version)

    def stop(self) -> None:
        """Ask the loop to stop (safe from signal handlers and other threads)."""
        self._stopping.set()
        self._wake.set()

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self._link.connected

    @property
    def duplicate_plans(self) -> int:
        """Plans received again with the already accepted seq (the retained copy on reconnect)."""
        return self._intake.duplicates

    def rejections(self) -> dict[str, int]:
        """Rejected downlink messages by reason, e.g. ``{"plan.bad_signature": 1}``."""
        return self._intake.rejections()

    def run(self) -> None:
        """Run until `stop()`: connect, play on time, report; then shut down cleanly."""
        self._programme.restore(self._verifier)
        if self._programme.plan is not None:
            self._link.listen_to_areas(self._programme.plan.areas)
        wanted = set(self._programme.wanted_assets())
        for path in sweep(self.config.cache_dir, {sha for sha, _ in self._state.assets()}, wanted):
            log.info("removed %s from the cache: no plan needs it", path.name)
        self._request_missing()
        self._downloader.start()
        self._link.start()
        self._systemd.notify("READY=1")
        self.started.set()
        log.info("agent %s started for %s (boot %s)", self.version, self.config.device_id, self.boot_id)
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                self._drain()
                try:
                    timeout = self._tick()
                except sqlite3.OperationalError as exc:
                    # A full disk: nothing was half-written (one transaction per change); try again soon.
                    log.error("cannot write the state database (%s); is the disk full?", exc)
                    timeout = 1.0
                # The loop is alive (also when the disk is full): systemd's watchdog is fed on every pass.
                self._systemd.notify("WATCHDOG=1")
                self._clock.wait(self._wake, timeout)
        finally:
            self._shutdown()

    def _on_message(self, channel: topics.DeviceChannel, payload: bytes) -> None:
        handler = self._handle_plan if channel == "plan" else self._handle_command
        self._inbox.put(lambda: handler(payload))
        self._wake.set()

    def _on_area_message(self, area: str, payload: bytes) -> None:
        self._inbox.put(lambda: self._handle_command(payload, area))
        self._wake.set()

    def _on_downloaded(self, asset: Asset, path: Path | None, reason: str | None) -> None:
        self._inbox.put(lambda: self._handle_download(asset, path, reason))
        self._wake.set()

    def _drain(self) -> None:
        while True:
            try:
                work = self._inbox.get_nowait()
            except queue.Empty:
                return
            try:
                work()
            except Exception:
                # One bad message or download must not stop the loudspeaker: log and carry on.
                log.exception("handling inbound work failed")

    def _tick(self) -> float:
        now = self._clock.now()
        self._check_liveness()
        if self._current is not None:
            report_notes(self._outbox, self._current, self._plan_version())
        self._collect_playback()
        playing = self._current
        clock_ok = self._clock_check.synced(now, self._clock.monotonic())
        decision = self._programme.decide(
            now, None if playing is None else playing.item_id, clock_ok=clock_ok
        )
        for skip in decision.skips:
            self._programme.close(skip.item.item_id, skip.reason)
            self._outbox.emit(
                "skipped", item=skip.item, plan_version=self._plan_version(), reason=skip.reason
            )
        self._report_held(decision.held, clock_ok)
        if self._fetch_pending or self._clock.monotonic() >= self._next_fetch:
            self._fetch_pending = False
            self._request_missing()
        self._play(decision, self._live.due(now, None if playing is None else playing.session), playing)
        warm_at = None
        if self._current is None:
            warm_at = warm_before(self._amplifier, decision.next_start, now, self.config.amplifier.warmup_s)
        self._maybe_heartbeat()
        self._outbox.flush()
        timeout = min(_MAX_SLEEP_S, self._heartbeats.seconds_to_next())
        for moment in (decision.wake_at, warm_at):
            if moment is not None:
                timeout = min(timeout, (moment - self._clock.now()).total_seconds())
        return max(0.01, timeout)

    def _check_liveness(self) -> None:
        if self._link.stuck():
            log.error(
                "MQTT client made no connection attempt for %s s; exiting so systemd restarts the agent",
                self.config.mqtt.liveness_s,
            )
            self.exit_code = EXIT_MQTT_STUCK
            self.stop()

    def _report_held(self, held: tuple[PlanItem, ...], clock_ok: bool) -> None:
        if clock_ok:
            self._held_reported.clear()
        else:
            report_held(self._outbox, held, self._held_reported, self._plan_version())

    def _play(self, decision: Decision, live: LiveSession | None, playing: Playback | None) -> None:
        """Start what should air now: emergency > live > the programme (relay/priority > normal) > tones."""
        if decision.play is not None and (decision.emergency or live is None):
            if playing is not None and decision.emergency and not playing.emergency:
                self._interrupt("emergency")
            if self._current is None:
                self._start(decision.play, emergency=decision.emergency)
        elif live is not None:
            # Live pauses everything but an emergency; what it cut resumes (or is skipped) by its window.
            current = self._current
            if current is not None and not current.emergency and current.session != live.session:
                self._interrupt("live")
            if self._current is None:
                volume = live.volume if live.volume is not None else self._volume()
                self._current = self._starter.live(live, volume)
        elif self._current is None and self._tones:
            track = self._tones.pop(0)
            self._outbox.emit("started", item_id=track.item_id, detail="test_tone")
            self._current = self._starter.tone(track)

    def _start(self, item: PlanItem | SourcedItem, *, emergency: bool) -> None:
        if isinstance(item, SourcedItem):
            if isinstance(item.source, StreamSource):
                filler = None
                if item.asset is not None and item.asset.sha256 in self._programme.ready:
                    filler = asset_path(self.config.cache_dir, item.asset.sha256)
                # Every agent of the slot starts the station's audio of its planned start, one delay later.
                job = StreamJob(
                    item.source.urls, self._programme.stream_end(item), filler, start_at=item.planned_start
                )
                volume = item.volume if item.volume is not None else self._volume()
                # Its `started`, with the URL that answered, comes from the stream as a note.
                self._current = self._starter.stream(item, job, volume, emergency=emergency)
            return
        path = asset_path(self.config.cache_dir, item.asset.sha256)
        if not path.exists():
            self._programme.asset_gone(item.asset.sha256)
            self._outbox.emit("failed", item=item, plan_version=self._plan_version(), reason="asset_missing")
            self._downloader.request(item.asset)
            return
        volume = item.volume if item.volume is not None else self._volume()
        self._current = self._starter.file(item, path, volume, emergency=emergency)
        # The durable writes (each an fsync) come after the start, so they never delay the audio.
        self._outbox.emit(
            "started", item=item, plan_version=self._plan_version(), detail="emergency" if emergency else None
        )
        self._state.touch_asset(item.asset.sha256, self._clock.now())

    def _interrupt(self, reason: str) -> None:
        """Cut the current play short and wait for it to end (the outcome is reported by `_collect`)."""
        current = self._current
        if current is None:
            return
        current.reason = reason
        current.cancel.set()
        if not current.done.wait(10):
            log.error("play of %s did not stop within 10 s", current.item_id)
        self._collect_playback()

    def _collect_playback(self) -> None:
        current = self._current
        if current is None or not current.done.is_set():
            return
        self._current = None
        report_notes(self._outbox, current, self._plan_version())
        self._live.ended(current)
        if (
            current.item is None
            and current.session is None
            and current.outcome == "finished"
            and self._link.connected
        ):
            mark_healthy(self.config.state_dir, self.version)
        report_outcome(self._outbox, self._programme, current, self._plan_version(), self._clock.now())

    def _handle_plan(self, payload: bytes) -> None:
        accepted = self._intake.plan(payload)
        if accepted is None:
            return
        self._programme.plan = accepted.body
        self._link.listen_to_areas(accepted.body.areas)  # before `received`: see Link.listen_to_areas
        self._outbox.emit("received", plan_version=accepted.body.version, detail=f"seq {accepted.seq}")
        skip_unsupported(self._outbox, self._programme, accepted.body, self.version)
        current = self._current
        kept = {item.item_id for item in accepted.body.items} | {i.item_id for i in accepted.body.sourced}
        if (
            current is not None
            and current.item is not None
            and not current.emergency
            and current.item_id not in kept
        ):
            self._interrupt("cancelled")
        # Downloads are requested after the next tick has skipped what can no longer play.
        self._downloader.forget_failures()
        self._fetch_pending = True

    def _handle_command(self, payload: bytes, area: str | None = None) -> None:
        accepted = self._intake.command(payload) if area is None else self._intake.area_command(area, payload)
        if accepted is None:
            return
        command = accepted.command
        if command.command == "play_now":
            self._play_now(command)
        elif command.command in ("live_start", "live_stop"):
            cut = self._live.take(command, None if self._current is None else self._current.session)
            if cut == "live_stop" and self._current is not None:
                # What the speaker said before the stop is still in the jitter buffer (one playout delay):
                # it airs, then the play ends by itself (its end is collected as usual).
                self._current.reason = cut
                self._current.ending.set()
            elif cut is not None:
                self._interrupt(cut)
        elif command.command == "stop":
            self._tones.clear()
            self._live.session = None
            self._interrupt("stopped")
            for entry in list(self._programme.emergencies):
                self._programme.close(entry.item.item_id, "stopped")
                self._outbox.emit("skipped", item=entry.item, reason="stopped")
        elif command.command == "set_volume" and command.volume is not None:
            self._state.set_volume(command.volume)
            applied = self._player.set_volume(command.volume)
            log.info("volume set to %s (applied by the player: %s)", command.volume, applied)
        else:
            self._fleet_command(command, accepted.seq)

    def _fleet_command(self, command: Command, seq: int) -> None:
        """The commands that keep the agent itself well: test tone, update, fetch ahead, resync."""
        if command.command == "test_tone":
            path = write_tone(
                self.config.state_dir / "tone" / f"tone-{command.duration_s}s.wav", seconds=command.duration_s
            )
            self._tones.append(Track(f"test-tone-{seq}", path, command.duration_s * 1000, self._volume()))
        elif command.command == "update" and command.version and command.sha256:
            path = request_update(self.config.state_dir, command.version, command.sha256)
            log.info("update to loaxa-agent %s requested from the root helper (%s)", command.version, path)
        elif command.command == "fetch" and command.asset is not None:
            # An announcement: the plan naming this audio follows; downloading now overlaps with it.
            if command.asset.sha256 not in self._programme.ready:
                self._downloader.request(command.asset)
        elif command.command == "resync":
            log.info("resync: republishing birth and fetching missing assets")
            if command.events_from is not None:
                self._outbox.resend(command.events_from)
            self._link.publish_birth()
            self._downloader.forget_failures()
            self._request_missing()

    def _play_now(self, command: Command) -> None:
        if command.item is None:  # Command.from_json refuses this already; keeps the type narrow
            return
        # The audio is asked for first: its download runs beside the durable writes below (each an fsync,
        # slow on a Pi's SD card), so the emergency starts as soon as both are done.
        if command.item.asset.sha256 not in self._programme.ready:
            self._downloader.request(command.item.asset)
        self._programme.add_emergency(command.item, command.repeat, float(command.gap_s))
        self._outbox.emit("received", item=command.item, detail="play_now")

    def _handle_download(self, asset: Asset, path: Path | None, reason: str | None) -> None:
        if path is None:
            if reason == "disk":
                self._evict(limit_bytes=0)  # the disk is full: drop every asset no plan still needs
            self._outbox.emit(
                "asset_failed", sha256=asset.sha256, plan_version=self._plan_version(), reason=reason
            )
            return
        self._programme.asset_ready(asset, self._clock.now())
        self._outbox.emit("asset_ready", sha256=asset.sha256, plan_version=self._plan_version())
        self._evict(limit_bytes=self.config.cache_limit_mb * 2**20)

    def _evict(self, *, limit_bytes: int) -> None:
        """Delete cached assets that no open item needs, least recently used first, down to the limit."""
        keep = set(self._programme.wanted_assets())
        for sha in evict(self.config.cache_dir, self._state.assets(), keep, limit_bytes):
            self._programme.asset_gone(sha)
            log.info("evicted asset %s from the cache", sha[:12])

    def _request_missing(self) -> None:
        self._next_fetch = self._clock.monotonic() + _FETCH_EVERY_S
        for asset in self._programme.missing_assets().values():
            self._downloader.request(asset)

    def _plan_version(self) -> int | None:
        return self._programme.plan_version

    def _volume(self) -> int:
        plan = self._programme.plan
        return self._state.volume(plan.volume if plan is not None else 80)

    def _maybe_heartbeat(self) -> None:
        if not self._heartbeats.due(self._link.connected):
            return
        snapshot = Snapshot(
            plan_version=self._plan_version() or 0,
            clock_synced=self._clock_check.synced(self._clock.now(), self._clock.monotonic()),
            assets_missing=len(self._programme.missing_assets()),
            amp_on=self._amplifier.is_on,
            playing=None if self._current is None else self._current.item_id,
            volume=self._volume(),
            rejected=self.rejections(),
        )
        self._link.publish_heartbeat(self._heartbeats.payload(snapshot))

    def _shutdown(self) -> None:
        log.info("agent stopping")
        self._systemd.notify("STOPPING=1")
        self._interrupt("shutdown")
        self._drain()
        self._outbox.flush()
        deadline = self._clock.monotonic() + 2
        while self._link.connected and self._outbox.flush() and self._clock.monotonic() < deadline:
            self._clock.wait(self._wake, 0.05)
            self._wake.clear()
        self._downloader.stop()
        self._link.stop()
        self._amplifier.close()
        self._state.close()
        self._systemd.close()
