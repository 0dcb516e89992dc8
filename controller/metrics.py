"""The controller's Prometheus figures: fleet, ingest, planning, MQTT, broker and alerts, read at scrape.

Owns the registry and a collector that asks the running parts for their state when Prometheus scrapes
(nothing is counted twice or kept apart from the parts themselves); the web layer adds its HTTP figures
to the same registry and serves it (web/api/metrics.py). It must not change anything it reads.
"""

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from controller.alerts import AlertEngine
from controller.db import Database
from controller.planning import PlanningResult
from controller.services.fleet_status import cluster_states

log = logging.getLogger(__name__)


@dataclass
class PlanningStats:
    """Planning runs and failures, counted by the runtime; the last result comes from the dispatcher."""

    runs: int = 0
    failures: int = 0
    last_run: datetime | None = None
    last_result: Callable[[], PlanningResult | None] = field(default=lambda: None)


@dataclass(frozen=True)
class Sources:
    """What the collector reads: the database, and small callables into the running parts."""

    db: Database
    mqtt_connected: Callable[[], bool]
    ingest: Callable[[], Mapping[str, Any]]  # counters(), backlog, handler errors
    broker: Callable[[], Mapping[str, Any] | None]  # the supervisor's health, None for an external broker
    planning: PlanningStats
    alerts: AlertEngine | None
    disk_low_mb: float


def _gauge(name: str, doc: str, value: float, labels: Mapping[str, str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


def _event_gaps(gaps: Mapping[str, Any]) -> Iterator[Metric]:
    """Events never stored, asked for again or given up, and devices sending above their share."""
    yield _gauge(
        "loaxa_events_missing_devices", "Devices with events not stored yet.", len(gaps["missing_from"])
    )
    yield CounterMetricFamily(
        "loaxa_events_resyncs", "resync commands sent for events never stored.", value=gaps["resyncs_sent"]
    )
    lost = CounterMetricFamily(
        "loaxa_events_lost", "Events never stored that the agent no longer held.", labels=["device"]
    )
    for device, count in sorted(gaps["lost"].items()):
        lost.add_metric([device], count)
    yield lost
    busy = GaugeMetricFamily(
        "loaxa_device_events_per_minute_high",
        "Events in the last full minute of devices above the busy threshold.",
        labels=["device"],
    )
    for device, count in sorted(gaps["busy_per_minute"].items()):
        busy.add_metric([device], count)
    yield busy


class ControllerCollector(Collector):
    """Reads every figure at scrape time."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        """The figures of this scrape (a part that fails to answer is left out and logged)."""
        for part in (self._fleet, self._ingest, self._mqtt, self._planning, self._alerts):
            try:
                yield from part()
            except Exception:  # a scrape must answer with what it has, e.g. while the database is down
                log.exception("metrics: %s could not be read", part.__name__)

    def _fleet(self) -> Iterator[Metric]:
        with self.sources.db.session() as session:
            states = cluster_states(session)
        clusters = GaugeMetricFamily("loaxa_clusters", "Provisioned clusters by state.", labels=["state"])
        online = sum(s.online for s in states)
        clusters.add_metric(["online"], online)
        clusters.add_metric(["offline"], len(states) - online)
        yield clusters
        yield _gauge(
            "loaxa_clusters_clock_unsynced",
            "Online clusters whose last heartbeat said the clock is not synchronized.",
            sum(s.online and s.clock_synced is False for s in states),
        )
        yield _gauge(
            "loaxa_clusters_disk_low",
            "Clusters with less free disk than the alert threshold.",
            sum(s.disk_free_mb is not None and s.disk_free_mb < self.sources.disk_low_mb for s in states),
        )
        versions = GaugeMetricFamily(
            "loaxa_clusters_by_version", "Clusters by agent version.", labels=["version"]
        )
        for version in sorted({s.agent_version or "unknown" for s in states}):
            versions.add_metric([version], sum((s.agent_version or "unknown") == version for s in states))
        yield versions

    def _ingest(self) -> Iterator[Metric]:
        ingest = self.sources.ingest()
        accepted = CounterMetricFamily(
            "loaxa_ingest_accepted", "Uplink messages stored, by channel.", labels=["channel"]
        )
        for channel, count in sorted(ingest["counters"]["accepted"].items()):
            accepted.add_metric([channel], count)
        yield accepted
        rejected = CounterMetricFamily(
            "loaxa_ingest_rejected", "Uplink messages refused, by reason.", labels=["reason"]
        )
        for reason, count in sorted(ingest["counters"]["rejected"].items()):
            rejected.add_metric([reason], count)
        yield rejected
        yield _gauge("loaxa_ingest_backlog", "Messages received and not yet stored.", ingest["backlog"])
        yield CounterMetricFamily(
            "loaxa_ingest_handler_errors", "Batches whose storing failed.", value=ingest["handler_errors"]
        )
        yield from _event_gaps(ingest["event_gaps"])

    def _mqtt(self) -> Iterator[Metric]:
        yield _gauge(
            "loaxa_mqtt_connected",
            "1 while the controller holds its broker session.",
            self.sources.mqtt_connected(),
        )
        broker = self.sources.broker()
        if broker is not None:
            yield _gauge(
                "loaxa_broker_up", "1 while the managed mosquitto runs.", broker["state"] == "running"
            )
            yield CounterMetricFamily(
                "loaxa_broker_restarts", "Restarts of the managed mosquitto.", value=broker["restarts"]
            )

    def _planning(self) -> Iterator[Metric]:
        stats = self.sources.planning
        yield CounterMetricFamily("loaxa_planning_runs", "Planning runs finished.", value=stats.runs)
        yield CounterMetricFamily(
            "loaxa_planning_failures", "Planning runs that failed.", value=stats.failures
        )
        if stats.last_run is not None:
            yield _gauge(
                "loaxa_planning_last_run_timestamp_seconds",
                "When planning last finished.",
                stats.last_run.timestamp(),
            )
        result = stats.last_result()
        if result is not None:
            yield _gauge("loaxa_planning_placements", "Items placed by the last run.", len(result.placements))
            yield _gauge("loaxa_planning_deferred", "Items deferred by the last run.", len(result.deferred))

    def _alerts(self) -> Iterator[Metric]:
        engine = self.sources.alerts
        if engine is None:
            return
        firing = GaugeMetricFamily("loaxa_alerts_firing", "Alerts firing now, by kind.", labels=["kind"])
        for kind in ("cluster_offline", "disk_low", "clock_unsynced", "broker_down"):
            firing.add_metric([kind], sum(a.kind == kind for a in engine.firing.values()))
        yield firing
        sent = CounterMetricFamily(
            "loaxa_alert_notifications",
            "Alert notifications by channel and result.",
            labels=["channel", "result"],
        )
        for result, counts in (("sent", engine.sent), ("failed", engine.failed)):
            for channel, count in sorted(counts.items()):
                sent.add_metric([channel, result], count)
        yield sent


def registry_for(sources: Sources) -> CollectorRegistry:
    """A registry holding the controller's collector (the web adds its HTTP figures to it)."""
    registry = CollectorRegistry()
    registry.register(ControllerCollector(sources))
    return registry
