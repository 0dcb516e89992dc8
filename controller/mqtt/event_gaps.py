"""Which events of each device were never stored, and when to ask the agent for them (issue 20, item 5).

An agent numbers its events 1, 2, 3… for good (edge_agent.outbox) and the controller stores each (device,
seq) once. A seq missing below one that arrived means an event the broker acknowledged to the agent but
never delivered (its queue overflowed while the controller was away or slow): the controller then sends
`resync` with `events_from` = the first missing seq, and the agent publishes what it still holds again.
Also counts each device's events per minute, so a device far above its share is logged and shown.
Owns that bookkeeping, in memory, with time as an input; must not store events or publish (the runtime
sends what `due` returns through the command path).

What it cannot see: a loss at the very end (no later event shows the hole until the device's next event).
"""

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

log = logging.getLogger(__name__)

# Events may arrive a little out of order (a batch stored by the ingest child, the agent's in-flight
# window after a reconnect): a hole is only asked for once it has been open this long.
GRACE: Final = timedelta(seconds=5)
RESYNC_EVERY: Final = timedelta(minutes=1)  # at most one resync per device per minute
RESYNCS_BEFORE_LOST: Final = 3  # a hole still open after this many resyncs: the agent no longer holds it
# Seqs held above a hole per device; beyond that the oldest hole is given up (memory stays bounded).
MAX_AHEAD: Final = 20_000
# The agent sends at most 50 events/s (3,000 a minute, edge_agent.outbox); a commune's day of plays is a
# few hundred. 600 in one minute is a device replaying a long outage or looping: worth a look.
BUSY_PER_MINUTE: Final = 600


@dataclass
class _Device:
    done: int  # every seq up to this one was seen
    ahead: set[int] = field(default_factory=set)
    hole_since: datetime | None = None
    resynced_at: datetime | None = None
    resyncs: int = 0  # resyncs sent for the hole at done + 1
    minute: datetime | None = None
    in_minute: int = 0


class EventGaps:
    """Tracks each device's seen event seqs; `due` says which devices to ask for missing events."""

    def __init__(self, floor: Callable[[str, int], int | None]) -> None:
        """Track nothing yet; `floor` is read once per device, at its first event.

        `floor(device, seq)` is the highest seq stored for the device below `seq` (None when none), so a
        hole left before the controller started is found too.
        """
        self._floor = floor
        self._lock = threading.Lock()  # `seen` runs on the MQTT link's thread, `due` on the scheduler's
        self._devices: dict[str, _Device] = {}
        self.lost: Counter[str] = Counter()  # events given up, by device
        self.resyncs_sent = 0
        self.busy: dict[str, int] = {}  # devices above BUSY_PER_MINUTE in their last full minute

    def seen(self, device_id: str, seq: int, now: datetime) -> None:
        """An event of `device_id` was stored (or was a duplicate of a stored one) at `now`."""
        with self._lock:
            self._seen(device_id, seq, now)

    def _seen(self, device_id: str, seq: int, now: datetime) -> None:
        device = self._devices.get(device_id)
        if device is None:
            below = self._floor(device_id, seq)
            device = self._devices[device_id] = _Device(done=seq - 1 if below is None else below)
        self._count(device_id, device, now)
        if seq <= device.done:
            return
        device.ahead.add(seq)
        self._advance(device)
        if device.ahead and device.hole_since is None:
            device.hole_since = now
        if len(device.ahead) > MAX_AHEAD:
            self._give_up(device_id, device, "too many events held above it", now)

    def due(self, now: datetime) -> list[tuple[str, int]]:
        """The (device, first missing seq) to send `resync` for now; counts them as sent."""
        with self._lock:
            return self._due(now)

    def _due(self, now: datetime) -> list[tuple[str, int]]:
        out = []
        for device_id, device in self._devices.items():
            if device.minute is not None and now - device.minute >= timedelta(minutes=2):
                self.busy.pop(device_id, None)  # a silent minute since: no longer busy
            if device.hole_since is None or now - device.hole_since < GRACE:
                continue
            if device.resynced_at is not None and now - device.resynced_at < RESYNC_EVERY:
                continue
            if device.resyncs >= RESYNCS_BEFORE_LOST:
                self._give_up(device_id, device, f"still missing after {device.resyncs} resyncs", now)
                continue
            device.resynced_at, device.resyncs = now, device.resyncs + 1
            self.resyncs_sent += 1
            out.append((device_id, device.done + 1))
        return out

    def health(self) -> dict[str, object]:
        """Open holes, events given up and busy devices, for GET /api/v1/health."""
        with self._lock:
            return self._health()

    def _health(self) -> dict[str, object]:
        return {
            "missing_from": {d: s.done + 1 for d, s in self._devices.items() if s.ahead},
            "resyncs_sent": self.resyncs_sent,
            "lost": dict(self.lost),
            "busy_per_minute": dict(self.busy),
        }

    def _advance(self, device: _Device) -> None:
        before = device.done
        while device.done + 1 in device.ahead:
            device.done += 1
            device.ahead.discard(device.done)
        if device.done != before:  # the hole moved on (or closed): a new hole gets a fresh count, but
            device.resyncs = 0  # the device still waits a minute from its last resync
            device.hole_since = None

    def _give_up(self, device_id: str, device: _Device, why: str, now: datetime) -> None:
        """Count the events of the lowest hole as lost and go on past it."""
        first = device.done + 1
        device.done = min(device.ahead) - 1
        self.lost[device_id] += device.done - first + 1
        log.error(
            "events %s–%s of %s were never stored and the agent no longer sends them (%s)",
            first, device.done, device_id, why,
        )  # fmt: skip
        self._advance(device)
        device.hole_since = now if device.ahead else None

    def _count(self, device_id: str, device: _Device, now: datetime) -> None:
        minute = now.replace(second=0, microsecond=0)
        if device.minute != minute:
            if device.in_minute > BUSY_PER_MINUTE:
                self.busy[device_id] = device.in_minute
            else:
                self.busy.pop(device_id, None)
            device.minute, device.in_minute = minute, 0
        device.in_minute += 1
        if device.in_minute == BUSY_PER_MINUTE + 1:
            log.warning("device %s sent over %d events this minute", device_id, BUSY_PER_MINUTE)
