"""Durable local state in one SQLite file (WAL): plan, replay counters, assets, progress, event outbox.

Owns the schema and every SQL statement of the agent. Each public method is one transaction, so a
kill -9 leaves either the old or the new state. It must not talk MQTT, HTTP or the player.

A damaged file (a worn SD card, a power cut mid-write) must not keep the agent from starting: one that
fails SQLite's quick check is set aside as `*.corrupt-<time>` and a fresh one is made; the broker's
retained plan fills it again and the agent reports the loss (`rebuilt`). The replay floors (the last
accepted plan and command seq, and the last accepted seq on each area topic) are also kept in a small side
file, so an older genuine plan or command is still refused after the loss.
"""

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from edge_agent.schedule import Progress
from protocol.timefmt import format_utc, parse_utc

Stream = Literal["plan", "cmd", "area"]
_AREA_STREAM = "area:"  # + the area code: one replay floor per area topic

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS streams (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS plan (
    id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, envelope BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS assets (
    sha256 TEXT PRIMARY KEY, bytes INTEGER NOT NULL, added_at TEXT NOT NULL, last_used TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS progress (
    item_id TEXT PRIMARY KEY, plays INTEGER NOT NULL, last_finished TEXT, closed TEXT);
CREATE TABLE IF NOT EXISTS emergencies (
    item_id TEXT PRIMARY KEY, item TEXT NOT NULL, repeat INTEGER NOT NULL, gap_s REAL NOT NULL);
"""
# Sent events are kept so a controller that never stored some can ask for them again (`resync` with
# `events_from`, docs/protocol.md): the last 10,000 or those of the last 7 days, whichever is fewer. A busy
# day is a few hundred events of ~300 bytes, so 10,000 is weeks of history in ~3 MB on the SD card, and
# 7 days covers a controller down over a long holiday.
KEEP_SENT_EVENTS = 10_000
KEEP_SENT_FOR = timedelta(days=7)

log = logging.getLogger(__name__)


def _open(path: Path) -> sqlite3.Connection:
    """Open (or create) the state file; raise sqlite3.DatabaseError when it fails SQLite's quick check."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        verdict = db.execute("PRAGMA quick_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {verdict[0] if verdict else 'no answer'}")
        db.executescript(_SCHEMA)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


@dataclass(frozen=True)
class StoredEmergency:
    """A `play_now` still to be played (kept across restarts)."""

    item_json: dict[str, Any]
    repeat: int
    gap_s: float


class State:
    """The agent's SQLite store; thread-safe (one connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._floors_path = path.with_name(path.name + ".floors")
        self.rebuilt: str | None = None  # why the file was set aside and made anew, for the agent to report
        try:
            self._db = _open(path)
        except sqlite3.DatabaseError as exc:
            aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
            for suffix in ("", "-wal", "-shm"):
                part = path.with_name(path.name + suffix)
                if part.exists():
                    part.rename(aside.with_name(aside.name + suffix))
            self.rebuilt = f"{path.name}: {exc}; set aside as {aside.name}"
            log.error("state file damaged (%s): set aside as %s; starting with a fresh one", exc, aside)
            self._db = _open(path)
        self._restore_floors()

    def _restore_floors(self) -> None:
        """Raise the replay floors to those of the side file (they survive a damaged database)."""
        try:
            floors = json.loads(self._floors_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(floors, dict):
            return
        with self._tx() as db:
            for stream, seq in floors.items():
                if stream not in ("plan", "cmd") and not str(stream).startswith(_AREA_STREAM):
                    continue
                if isinstance(seq, int) and not isinstance(seq, bool):
                    db.execute(
                        "INSERT INTO streams VALUES (?, ?) ON CONFLICT(name) DO UPDATE"
                        " SET seq = MAX(seq, excluded.seq)",
                        (stream, seq),
                    )
            # Event seqs go on from the last one: the controller stores each (device, seq) once.
            events = floors.get("events")
            if isinstance(events, int) and not isinstance(events, bool) and events > self._event_seq():
                db.execute("DELETE FROM sqlite_sequence WHERE name = 'outbox'")
                db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)", (events,))

    def _event_seq(self) -> int:
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return 0 if row is None else int(row[0])

    def _write_floors(self) -> None:
        """Copy the replay floors to the side file, atomically (write, fsync, rename)."""
        rows = self._db.execute("SELECT name, seq FROM streams").fetchall()
        floors = {str(name): int(seq) for name, seq in rows} | {"events": self._event_seq()}
        temporary = self._floors_path.with_name(self._floors_path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(floors, file)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self._floors_path)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def next_bdseq(self) -> int:
        """Increment and return the birth/death sequence (one per connection attempt)."""
        with self._tx() as db:
            value = int(self._get("bdseq") or "0") + 1
            db.execute("INSERT OR REPLACE INTO kv VALUES ('bdseq', ?)", (str(value),))
            return value

    def last_good_time(self) -> datetime | None:
        """The last wall-clock time seen while the clock was trusted (a floor for the next boot)."""
        with self._lock:
            value = self._get("clock_good")
        return None if value is None else parse_utc(value)

    def set_last_good_time(self, now: datetime) -> None:
        """Remember a trusted wall-clock time."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO kv VALUES ('clock_good', ?)", (format_utc(now),))

    def synced_boot(self) -> str | None:
        """The boot id in which NTP synchronisation was last seen."""
        with self._lock:
            return self._get("clock_synced_boot")

    def set_synced_boot(self, boot: str) -> None:
        """Remember the boot id in which NTP synchronisation was seen."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO kv VALUES ('clock_synced_boot', ?)", (boot,))

    def volume(self, default: int) -> int:
        """The last volume set by command, or `default`."""
        with self._lock:
            value = self._get("volume")
        return default if value is None else int(value)

    def set_volume(self, volume: int) -> None:
        """Remember the volume set by command."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO kv VALUES ('volume', ?)", (str(volume),))

    def last_seq(self, stream: Stream, area: str = "") -> int:
        """The last accepted envelope seq on a stream, or on `area`'s topic for "area" (0 when none)."""
        name = _AREA_STREAM + area if stream == "area" else stream
        with self._lock:
            row = self._db.execute("SELECT seq FROM streams WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def accept_area_message(self, area: str, seq: int) -> None:
        """Record a seq as accepted on an area's topic."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO streams VALUES (?, ?)", (_AREA_STREAM + area, seq))
            self._write_floors()

    def accept_command(self, seq: int) -> None:
        """Record a command seq as accepted."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO streams VALUES ('cmd', ?)", (seq,))
            self._write_floors()

    def save_plan(self, seq: int, version: int, envelope: bytes) -> None:
        """Store a newly accepted plan and its seq in one transaction."""
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO streams VALUES ('plan', ?)", (seq,))
            db.execute("INSERT OR REPLACE INTO plan VALUES (1, ?, ?)", (version, envelope))
            self._write_floors()

    def plan_envelope(self) -> bytes | None:
        """The raw signed envelope of the current plan, if any."""
        with self._lock:
            row = self._db.execute("SELECT envelope FROM plan WHERE id = 1").fetchone()
        return None if row is None else bytes(row[0])

    def add_asset(self, sha256: str, size: int, now: datetime) -> None:
        """Index an asset that is now in the cache."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO assets VALUES (?, ?, ?, ?)",
                (sha256, size, format_utc(now), format_utc(now)),
            )

    def touch_asset(self, sha256: str, now: datetime) -> None:
        """Mark an asset as used now (for least-recently-used eviction)."""
        with self._tx() as db:
            db.execute("UPDATE assets SET last_used = ? WHERE sha256 = ?", (format_utc(now), sha256))

    def remove_asset(self, sha256: str) -> None:
        """Forget an asset (its file is deleted by the caller)."""
        with self._tx() as db:
            db.execute("DELETE FROM assets WHERE sha256 = ?", (sha256,))

    def assets(self) -> list[tuple[str, int]]:
        """Every indexed asset as (sha256, bytes), least recently used first."""
        with self._lock:
            rows = self._db.execute("SELECT sha256, bytes FROM assets ORDER BY last_used, sha256").fetchall()
        return [(str(sha), int(size)) for sha, size in rows]

    def add_event(self, build: Callable[[int], str], now: datetime) -> int:
        """Append an event to the outbox; `build(seq)` returns its JSON text. Returns the seq.

        Prunes sent events beyond the retention (KEEP_SENT_EVENTS, KEEP_SENT_FOR before `now`).
        """
        with self._tx() as db:
            cursor = db.execute("INSERT INTO outbox (body) VALUES ('')")
            seq = int(cursor.lastrowid or 0)
            db.execute("UPDATE outbox SET body = ? WHERE seq = ?", (build(seq), seq))
            db.execute(
                "DELETE FROM outbox WHERE sent = 1 AND (seq <= ?"
                " OR CASE WHEN json_valid(body) THEN json_extract(body, '$.at') END < ?)",
                (seq - KEEP_SENT_EVENTS, format_utc(now - KEEP_SENT_FOR)),
            )
            self._write_floors()
            return seq

    def resend_events(self, first: int) -> int:
        """Queue every held event with seq >= `first` to be published again; return how many."""
        with self._tx() as db:
            cursor = db.execute("UPDATE outbox SET sent = 0 WHERE sent = 1 AND seq >= ?", (first,))
            return int(cursor.rowcount)

    def held_events(self) -> tuple[int, int] | None:
        """The lowest and highest seq still held in the outbox (None when it is empty)."""
        with self._lock:
            low, high = self._db.execute("SELECT MIN(seq), MAX(seq) FROM outbox").fetchone()
        return None if low is None else (int(low), int(high))

    def unsent_events(self, limit: int) -> list[tuple[int, str]]:
        """The oldest events not yet acknowledged by the broker, in seq order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM outbox WHERE sent = 0 ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(int(seq), str(body)) for seq, body in rows]

    def mark_sent(self, seq: int) -> None:
        """Mark an event acknowledged (PUBACK received)."""
        with self._tx() as db:
            db.execute("UPDATE outbox SET sent = 1 WHERE seq = ?", (seq,))

    def progress(self) -> dict[str, Progress]:
        """Progress of every item seen so far, by item id."""
        with self._lock:
            rows = self._db.execute("SELECT item_id, plays, last_finished, closed FROM progress").fetchall()
        return {
            str(item): Progress(int(plays), None if last is None else parse_utc(last), closed)
            for item, plays, last, closed in rows
        }

    def record_play(self, item_id: str, finished: datetime, *, done: bool) -> None:
        """Count one completed play; close the item when it has played all its repeats."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO progress VALUES (?, 1, ?, ?) ON CONFLICT(item_id) DO UPDATE SET"
                " plays = plays + 1, last_finished = excluded.last_finished, closed = excluded.closed",
                (item_id, format_utc(finished), "done" if done else None),
            )
            if done:
                db.execute("DELETE FROM emergencies WHERE item_id = ?", (item_id,))

    def close_item(self, item_id: str, reason: str) -> None:
        """Close an item without further plays (skipped, stopped, failed)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO progress VALUES (?, 0, NULL, ?) ON CONFLICT(item_id) DO UPDATE SET closed = ?",
                (item_id, reason, reason),
            )
            db.execute("DELETE FROM emergencies WHERE item_id = ?", (item_id,))

    def reset_progress(self, item_id: str) -> None:
        """Forget an item's progress (a new `play_now` of the same item plays again)."""
        with self._tx() as db:
            db.execute("DELETE FROM progress WHERE item_id = ?", (item_id,))

    def add_emergency(self, item_json: dict[str, Any], repeat: int, gap_s: float) -> None:
        """Keep a `play_now` until it has played (a restart does not lose it)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO emergencies VALUES (?, ?, ?, ?)",
                (item_json["item_id"], json.dumps(item_json), repeat, gap_s),
            )

    def emergencies(self) -> list[StoredEmergency]:
        """The `play_now` items not yet done, in the order they arrived."""
        with self._lock:
            rows = self._db.execute("SELECT item, repeat, gap_s FROM emergencies ORDER BY rowid").fetchall()
        return [StoredEmergency(json.loads(item), int(repeat), float(gap)) for item, repeat, gap in rows]
