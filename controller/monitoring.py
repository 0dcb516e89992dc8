"""Monitoring of one controller process: its Prometheus registry and its alert checks.

Owns wiring the running parts (database, MQTT link, ingest, broker supervisor, planning) into
controller.metrics and controller.alerts, and how long the broker has been out of reach. The runtime
calls `check_alerts` from a job on the scheduler leader only, so one deployment sends each alert once.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from apscheduler.schedulers.base import BaseScheduler

from controller.alerts import AlertEngine, evaluate, notifiers_for
from controller.alerts.rules import DEAD_AIR_RECENT, DeadAir, FailedRollout
from controller.children import Supervisor
from controller.config import Settings
from controller.db import Database
from controller.dispatch import Dispatcher
from controller.metrics import PlanningStats, Sources, registry_for
from controller.mqtt.client import MqttLink
from controller.mqtt.event_gaps import EventGaps
from controller.mqtt.ingest import Ingestor
from controller.mqtt.ingest_process import IngestProcess
from controller.planning import Schedule, ScheduleFile
from controller.services.dead_air import dead_air_reports
from controller.services.fleet_status import ClusterState, cluster_states
from controller.services.rollouts import recent_rollouts


class _Parts(Protocol):
    """What monitoring reads of the runtime's Controller (named here: the runtime imports this module)."""

    settings: Settings
    db: Database
    schedules: ScheduleFile
    link: MqttLink
    ingestor: Ingestor | IngestProcess
    event_gaps: EventGaps
    broker_supervisor: Supervisor | None
    dispatcher: Dispatcher
    clock: Callable[[], datetime]


class Monitoring:
    """Figures for /metrics and alerts for people, from the same view of the running controller."""

    def __init__(self, parts: _Parts) -> None:
        self._settings = parts.settings.alerts
        self._parts = parts
        self.alerts = AlertEngine(notifiers_for(self._settings))
        self.planning = PlanningStats(last_result=lambda: parts.dispatcher.last_result)
        self._down_since: datetime | None = None
        link, broker = parts.link, parts.broker_supervisor

        def ingest() -> dict[str, Any]:
            counters = parts.ingestor.counters()
            return {
                "counters": counters,
                "backlog": link.backlog,
                "handler_errors": link.handler_errors,
                "event_gaps": parts.event_gaps.health(),
            }

        self.registry = registry_for(
            Sources(
                db=parts.db,
                mqtt_connected=lambda: link.connected,
                ingest=ingest,
                broker=lambda: None if broker is None else broker.health(),
                planning=self.planning,
                alerts=self.alerts,
                disk_low_mb=self._settings.disk_low_mb,
            )
        )

    def schedule(self, jobs: BaseScheduler) -> None:
        """Add the alert check to the leader's jobs."""
        every = self._settings.check_s
        jobs.add_job(self.check_alerts, "interval", seconds=every, id="alerts", coalesce=True)

    def planned(self, ok: bool) -> None:
        """Count one planning run (the runtime calls it after each)."""
        self.planning.runs += 1
        self.planning.failures += not ok
        self.planning.last_run = self._parts.clock()

    def check_alerts(self) -> None:
        """Evaluate the rules now and send what started or ended."""
        now = self._parts.clock()
        broker = self._parts.broker_supervisor
        up = self._parts.link.connected and (broker is None or broker.healthy)
        self._down_since = None if up else (self._down_since or now)
        with self._parts.db.session() as session:
            states = cluster_states(session)
            # Reports from the last two hours: a silence that began then may have ended within the last one.
            silences = dead_air_reports(session, now - 2 * DEAD_AIR_RECENT)
            newest = next(iter(recent_rollouts(session, limit=1)), None)
        failed = None
        if newest is not None and newest.state == "failed":
            sick = tuple(sorted(d for d, outcome in newest.outcomes.items() if outcome == "failed"))
            failed = FailedRollout(newest.id, newest.version, newest.wave, sick)
        self.alerts.update(
            evaluate(
                states,
                self._schedule_for,
                now,
                broker_down_since=self._down_since,
                disk_low_mb=self._settings.disk_low_mb,
                broker_down_s=self._settings.broker_down_s,
                dead_air=[DeadAir(device, start, length) for device, start, length in silences],
                dead_air_min_s=self._settings.dead_air_min_s,
                failed_rollout=failed,
            )
        )

    def _schedule_for(self, state: ClusterState) -> Schedule:
        return self._parts.schedules.for_device(state.device_id, state.village_id)
