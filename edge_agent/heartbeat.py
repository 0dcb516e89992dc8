"""Heartbeats (DESIGN §5): when one is due and what it says; QoS 0, every interval and on each connect.

Owns the heartbeat seq and timing. It must not publish (the agent hands the payload to the link) and
reads the agent's own figures only from the Snapshot it is given.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from edge_agent import metrics
from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from protocol import Heartbeat


@dataclass(frozen=True)
class Snapshot:
    """The agent's own figures at the time of a heartbeat."""

    plan_version: int
    clock_synced: bool
    assets_missing: int
    amp_on: bool
    playing: str | None
    volume: int
    rejected: Mapping[str, int]


class Heartbeats:
    """Decides when a heartbeat is due and builds its JSON."""

    def __init__(self, config: AgentConfig, clock: Clock, *, boot_id: str, version: str) -> None:
        self._config = config
        self._clock = clock
        self._boot_id = boot_id
        self._version = version
        self._born = clock.monotonic()
        self._seq = 0
        self._next = 0.0
        self._was_connected = False

    def due(self, connected: bool) -> bool:
        """True when a heartbeat should go out now (interval elapsed, or just connected)."""
        just_connected, self._was_connected = connected and not self._was_connected, connected
        now = self._clock.monotonic()
        if not connected or (now < self._next and not just_connected):
            return False
        self._next = now + self._config.heartbeat_interval_s
        return True

    def seconds_to_next(self) -> float:
        """Seconds until the next heartbeat is due (0 when overdue)."""
        return max(0.0, self._next - self._clock.monotonic())

    def payload(self, snapshot: Snapshot) -> bytes:
        """The next heartbeat: DESIGN §5 fields plus `rejected` counters per reason."""
        self._seq += 1
        system = metrics.system(self._config.state_dir)
        beat = Heartbeat(
            seq=self._seq,
            boot_id=self._boot_id,
            uptime_s=int(self._clock.monotonic() - self._born),
            sent_at=self._clock.now(),
            clock_synced=snapshot.clock_synced,
            plan_version=snapshot.plan_version,
            assets_missing=snapshot.assets_missing,
            amp_on=snapshot.amp_on,
            agent_version=self._version,
            cpu_temp_c=system["cpu_temp_c"],
            load1=system["load1"],
            mem_used_pct=system["mem_used_pct"],
            disk_free_mb=system["disk_free_mb"],
            cache_bytes=metrics.cache_bytes(self._config.cache_dir),
            playing=snapshot.playing,
            volume=snapshot.volume,
            net=metrics.network(),
        )
        return json.dumps({**beat.to_json(), "rejected": dict(snapshot.rejected)}).encode()
