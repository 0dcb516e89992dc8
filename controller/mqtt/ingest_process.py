"""Storing uplink messages in a child process, so receiving and storing each get a core (DESIGN §5).

A Python process runs its threads on one core at a time. Past a few thousand heartbeats a second, paho's
receive thread and the thread storing batches take turns on that core, and each slows the other
(docs/benchmarks.md). With `LOAXA_MQTT_INGEST_PROCESS=true` the controller keeps its `MqttLink` and hands
each batch to a child process running the same `Ingestor`. The call returns once the child has committed
the batch, so `MqttLink` acknowledges QoS 1 messages exactly as it does in-process, and retries a batch
that failed.

A child that dies or hangs is replaced on the next batch; the batch it held is sent again. Storage is
idempotent (events once per device and seq, statuses by bdseq, heartbeats extend coverage to the same
end), so a batch the child committed just before dying costs nothing twice. Owns the child's life and
the pipe to it; what is stored, and how, stays in `controller.mqtt.ingest`.
"""

import contextlib
import logging
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import text

from controller.db import Database
from controller.mqtt.client import Incoming
from controller.mqtt.ingest import Ingestor
from protocol import Event

log = logging.getLogger(__name__)

# How long one batch may take in the child before it is taken for hung and replaced.
BATCH_TIMEOUT_S = 60.0
START_TIMEOUT_S = 60.0  # a new child imports the storage code and connects to the database
_SPAWN = multiprocessing.get_context("spawn")  # the controller has threads: never fork it

# What goes through the pipe: a batch as plain tuples, and the child's answer to it.
_Row = tuple[str, str, bytes, Any]
_Reply = tuple[str, dict[str, dict[str, int]], list[tuple[str, Event]], str]


class IngestProcess:
    """`Ingestor.handle_batch` and `counters` run in a child process of their own."""

    def __init__(
        self,
        db_url: str,
        *,
        heartbeat_interval: timedelta,
        on_event: Callable[[str, Event], None] | None = None,
        batch_timeout_s: float = BATCH_TIMEOUT_S,
    ) -> None:
        self._db_url = db_url
        self._interval_s = heartbeat_interval.total_seconds()
        self._on_event = on_event
        self._timeout_s = batch_timeout_s
        self._lock = threading.Lock()
        self._process: Any = None
        self._pipe: Connection | None = None
        self.accepted: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.lost = 0  # children that died or hung

    def start(self) -> None:
        """Start the child (it connects to the database before the first batch arrives)."""
        with self._lock:
            self._ensure_child()

    def stop(self) -> None:
        """Let the child finish and exit."""
        with self._lock:
            if self._pipe is not None:
                with contextlib.suppress(OSError):  # a child already gone needs no goodbye
                    self._pipe.send(None)
            self._reap(timeout=10)

    def handle_batch(self, batch: list[Incoming]) -> None:
        """Store `batch` in the child; raises when the child could not (MqttLink retries the batch)."""
        rows: list[_Row] = [(m.device_id, m.channel, m.payload, m.received_at) for m in batch]
        with self._lock:
            pipe = self._ensure_child()
            try:
                pipe.send(rows)
                if not pipe.poll(self._timeout_s):
                    raise TimeoutError(f"the ingest process took over {self._timeout_s:.0f} s on a batch")
                status, counts, events, error = pipe.recv()
            except (OSError, EOFError, TimeoutError) as exc:
                log.error("ingest process lost (%s); a new one takes the batch", exc)
                self.lost += 1
                self._reap(timeout=0)
                raise ConnectionError(f"ingest process lost: {exc}") from exc
            self.accepted.update(counts["accepted"])
            self.rejected.update(counts["rejected"])
        if status != "ok":
            raise RuntimeError(f"ingest process could not store the batch: {error}")
        if self._on_event is not None:
            for device_id, event in events:
                self._on_event(device_id, event)

    @property
    def pid(self) -> int | None:
        """The running child's process id."""
        process = self._process
        return None if process is None else int(process.pid)

    def counters(self) -> dict[str, dict[str, int]]:
        """Accepted and rejected counts by channel and reason, summed over every child so far."""
        with self._lock:
            return {"accepted": dict(self.accepted), "rejected": dict(self.rejected)}

    def _ensure_child(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._pipe is not None:
            return self._pipe
        if self._process is not None:
            process = self._process
            log.error("ingest process %s died (exit %s); starting another", process.pid, process.exitcode)
            self.lost += 1
            self._reap(timeout=0)
        parent, child = _SPAWN.Pipe()
        level = logging.getLogger().getEffectiveLevel()
        self._process = _SPAWN.Process(
            target=_serve,
            args=(child, self._db_url, self._interval_s, level),
            name="loaxa-ingest",
            daemon=True,
        )
        self._process.start()
        child.close()
        self._pipe = parent
        try:
            if not parent.poll(START_TIMEOUT_S) or parent.recv() != "ready":
                raise TimeoutError(f"not ready after {START_TIMEOUT_S:.0f} s")
        except (OSError, EOFError, TimeoutError) as exc:
            self._reap(timeout=0)
            raise ConnectionError(f"ingest process did not start: {exc}") from exc
        log.info("ingest process %s started", self._process.pid)
        return parent

    def _reap(self, *, timeout: float) -> None:
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
        if self._pipe is not None:
            self._pipe.close()
        self._process, self._pipe = None, None


def _serve(pipe: Connection, db_url: str, interval_s: float, log_level: int) -> None:
    """The child: store each batch that comes down the pipe and answer with counts and stored events."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db = Database(db_url)
    events: list[tuple[str, Event]] = []
    ingestor = Ingestor(
        db,
        heartbeat_interval=timedelta(seconds=interval_s),
        on_event=lambda device_id, event: events.append((device_id, event)),
    )
    try:
        with db.session() as session:  # fail here, where the parent waits for "ready", not on a batch
            session.execute(text("SELECT 1"))
        pipe.send("ready")
        while (rows := pipe.recv()) is not None:
            before = ingestor.counters()
            events.clear()
            try:
                ingestor.handle_batch([Incoming(*row) for row in rows])
            except Exception as exc:
                log.exception("storing a batch of %d messages failed", len(rows))
                reply: _Reply = (
                    "error",
                    _delta(before, ingestor.counters()),
                    [],
                    f"{type(exc).__name__}: {exc}",
                )
            else:
                reply = ("ok", _delta(before, ingestor.counters()), list(events), "")
            pipe.send(reply)
    except (EOFError, KeyboardInterrupt):
        pass  # the controller went away: nothing is half-done, every batch commits or rolls back
    finally:
        db.dispose()


def _delta(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """What the counters gained between two snapshots."""
    return {
        kind: {
            key: n - before[kind].get(key, 0)
            for key, n in after[kind].items()
            if n != before[kind].get(key, 0)
        }
        for kind in ("accepted", "rejected")
    }
