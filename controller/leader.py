"""Which controller process runs the scheduler and the planner: one leader per deployment (DESIGN §3).

Owns electing the leader, noticing when leadership is lost, and carrying "please re-plan" from followers to
the leader. It must not plan, publish or schedule anything itself: the runtime does that through the
callbacks (`on_elected`, `on_demoted`, `on_replan_requested`) and asks `is_leader` before it publishes.

- PostgreSQL: the leader holds a session-level advisory lock on a dedicated connection. Followers try to
  take it every `retry_s`. The leader checks every `check_s` that the connection still answers and
  listens on it for `NOTIFY loaxa_replan`, which followers send when their web layer or their share of
  the MQTT events changed something. When the check fails the leader demotes itself at once; and
  `is_leader` turns false by itself when no check has succeeded for three periods (a lease), so a leader
  whose check hangs on a dead network stops publishing even before it notices. A killed process loses
  its connection, so the server drops the lock and a follower takes it within `retry_s`.
- SQLite: the database is one file on one machine, so one process normally runs everything and is
  always the leader. A second process started on the same database (by mistake, or for a second web
  port) finds an exclusive `flock` on a file beside it and follows; it asks the leader to re-plan by
  touching another file beside the database, which the leader looks at every `check_s`.
"""

import fcntl
import hashlib
import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

REPLAN_CHANNEL = "loaxa_replan"
DEFAULT_NAME = "loaxa-scheduler"
# How many check periods the leader may go without a successful check before `is_leader` says no.
LEASE_CHECKS = 3
# The lock connection must notice a dead server or network in seconds, not after the kernel's two hours:
# libpq's keepalives and TCP user timeout on our side, the same on the server's side (set per session).
_CLIENT_KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "connect_timeout": 5,
}
# Per-session settings of the lock connection: the server's keepalives, and no idle timeout (the lock
# connection is idle between checks; a site-wide idle_session_timeout would end every leadership).
_SESSION_SETTINGS = (
    ("tcp_keepalives_idle", "5"),
    ("tcp_keepalives_interval", "2"),
    ("tcp_keepalives_count", "3"),
    ("tcp_user_timeout", "10000"),
    ("idle_session_timeout", "0"),
)

Role = Literal["leader", "follower"]


def advisory_key(name: str) -> int:
    """The signed 64-bit advisory lock key for `name` (the first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leadership(ABC):
    """Leadership of one process: elected or following, with callbacks; start() once, stop() once."""

    def __init__(
        self,
        *,
        retry_s: float = 5.0,
        check_s: float = 2.0,
        on_elected: Callable[[], None] | None = None,
        on_demoted: Callable[[str], None] | None = None,
        on_replan_requested: Callable[[], object] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.retry_s = retry_s
        self.check_s = check_s
        self._on_elected = on_elected or (lambda: None)
        self._on_demoted = on_demoted or (lambda _reason: None)
        self._on_replan_requested = on_replan_requested or (lambda: None)
        self._monotonic = monotonic
        self._leader = False
        self._confirmed_at = 0.0
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_problem: str | None = None

    @property
    def is_leader(self) -> bool:
        """True while this process holds leadership and has confirmed it within the lease."""
        lease = LEASE_CHECKS * self.check_s
        return self._leader and self._monotonic() - self._confirmed_at < lease

    @property
    def role(self) -> Role:
        """Either "leader" or "follower" (for health reports and logs)."""
        return "leader" if self.is_leader else "follower"

    def start(self) -> None:
        """Try once to become leader (so a lone process plans at once), then keep watching in a thread."""
        self._attempt()
        if not self._leader:
            log.info("another process is the scheduler leader; following (retrying every %s s)", self.retry_s)
        self._thread = threading.Thread(target=self._run, name="leadership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Give up leadership (a follower can take over at once) and stop watching."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=max(self.check_s, self.retry_s) + 5)
        was_leader = self._leader
        self._leader = False
        self._release()
        if was_leader:
            log.info("scheduler leadership released (process stopping)")

    @abstractmethod
    def signal_leader(self) -> None:
        """Ask the leader (another process) to re-plan soon."""

    # -- for the backends -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopped.is_set():
            if self._leader:
                try:
                    self._watch()
                except Exception as exc:  # any failure of the check means we can no longer vouch for the lock
                    self._demote(f"{type(exc).__name__}: {exc}")
            elif not self._stopped.wait(self.retry_s):
                self._attempt()

    def _attempt(self) -> None:
        try:
            won = self._try_acquire()
        except Exception as exc:  # the database may be down; a follower simply tries again later
            problem = f"{type(exc).__name__}: {exc}"
            if problem != self._last_problem:  # once per outage, not every retry_s
                log.warning(
                    "could not try for scheduler leadership (retrying every %s s): %s", self.retry_s, problem
                )
            self._last_problem = problem
            self._release()
            return
        self._last_problem = None
        if won:
            self._confirmed_at = self._monotonic()
            self._leader = True
            log.info("this process is now the scheduler leader (%s)", self._describe())
            self._callback("on_elected", self._on_elected)

    def _demote(self, reason: str) -> None:
        self._leader = False
        self._release()
        log.error("lost leadership: %s; this process stops planning and publishing plans", reason)
        self._callback("on_demoted", lambda: self._on_demoted(reason))

    def _confirm(self) -> None:
        self._confirmed_at = self._monotonic()

    def _replan_requested(self) -> None:
        self._callback("on_replan_requested", self._on_replan_requested)

    def _callback(self, name: str, callback: Callable[[], object]) -> None:
        # A failing callback must not end the thread that watches the lock.
        try:
            callback()
        except Exception:
            log.exception("leadership callback %s failed", name)

    @abstractmethod
    def _try_acquire(self) -> bool:
        """Take leadership if it is free; True if taken."""

    @abstractmethod
    def _watch(self) -> None:
        """As leader: wait up to check_s for replan requests, then confirm the lock (raise if lost)."""

    @abstractmethod
    def _release(self) -> None:
        """Let go of whatever holds leadership (idempotent)."""

    @abstractmethod
    def _describe(self) -> str:
        """What holds leadership, for the log."""


class PostgresLeadership(Leadership):
    """Leadership through a PostgreSQL advisory lock held on a dedicated connection."""

    def __init__(self, db_url: str, *, name: str = DEFAULT_NAME, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # libpq takes the SQLAlchemy URL without its "+driver" part.
        self._conninfo = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.name = name
        self.key = advisory_key(name)
        self._conn: psycopg.Connection[TupleRow] | None = None
        self._conn_lock = threading.Lock()  # the lock thread and a follower's signal share the connection

    def signal_leader(self) -> None:
        """NOTIFY loaxa_replan: the leader, listening on its lock connection, queues a planning run."""
        with self._conn_lock:
            conn = self._connection()
            try:
                conn.execute("SELECT pg_notify(%s, %s)", (REPLAN_CHANNEL, str(os.getpid())))
            except psycopg.Error:
                self._close()
                raise

    def _connection(self) -> psycopg.Connection[TupleRow]:
        if self._conn is None or self._conn.closed:
            conn = psycopg.connect(make_conninfo(self._conninfo, **_CLIENT_KEEPALIVE), autocommit=True)
            for setting, value in _SESSION_SETTINGS:  # only those this server version knows
                conn.execute(
                    "SELECT set_config(name, %s, false) FROM pg_settings WHERE name = %s", (value, setting)
                )
            # Names the session in pg_stat_activity, so an operator can see which process leads.
            conn.execute(
                "SELECT set_config('application_name', %s, false)", (f"loaxa {self.name} {os.getpid()}",)
            )
            self._conn = conn
        return self._conn

    def _try_acquire(self) -> bool:
        with self._conn_lock:
            conn = self._connection()
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            if not (row and row[0]):
                return False
            # Listen before the election callback plans, so no request sent after that run is missed.
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(REPLAN_CHANNEL)))
            return True

    def _watch(self) -> None:
        conn = self._conn
        if conn is None:
            raise ConnectionError("the lock connection is gone")
        requested = False
        for _notify in conn.notifies(timeout=self.check_s):
            requested = True  # one planning run covers every request received so far
        if requested:
            self._replan_requested()
        # The lock is session-level: while this connection answers, it is ours.
        with self._conn_lock:
            conn.execute("SELECT 1").fetchone()
        self._confirm()

    def _release(self) -> None:
        with self._conn_lock:
            self._close()

    def _close(self) -> None:
        # Closing the session frees its advisory lock on the server (no explicit unlock needed).
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                log.debug("closing the lock connection failed", exc_info=True)
            self._conn = None

    def _describe(self) -> str:
        return f"PostgreSQL advisory lock {self.name!r} = {self.key}"


class FileLeadership(Leadership):
    """Leadership through an exclusive flock on a file beside the SQLite database."""

    def __init__(self, lock_path: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lock_path = lock_path
        self.signal_path = lock_path.with_name(lock_path.name + ".replan")
        self._file: IO[bytes] | None = None
        self._seen_signal = 0

    def signal_leader(self) -> None:
        """Touch the signal file; the leader sees its new time within check_s."""
        self.signal_path.touch()

    def _try_acquire(self) -> bool:
        handle = self.lock_path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        self._seen_signal = self._signal_mtime()
        return True

    def _watch(self) -> None:
        if self._stopped.wait(self.check_s):
            return
        mtime = self._signal_mtime()
        if mtime != self._seen_signal:
            self._seen_signal = mtime
            self._replan_requested()
        self._confirm()

    def _signal_mtime(self) -> int:
        try:
            return self.signal_path.stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def _release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None

    def _describe(self) -> str:
        return f"lock file {self.lock_path}"

    @property
    def is_leader(self) -> bool:
        """True while this process holds the lock file (a local flock cannot be lost behind our back)."""
        return self._leader


class AlwaysLeader(Leadership):
    """A process that is leader by construction (an in-memory SQLite database is private to it)."""

    def signal_leader(self) -> None:
        """Nothing to signal: no other process can share a private database."""

    def _try_acquire(self) -> bool:
        return True

    def _watch(self) -> None:
        self._stopped.wait(self.check_s)
        self._confirm()

    def _release(self) -> None:
        """Nothing is held."""

    def _describe(self) -> str:
        return "a private database"

    @property
    def is_leader(self) -> bool:
        """True until stopped."""
        return self._leader


def leadership_for(
    db_url: str,
    *,
    name: str = DEFAULT_NAME,
    retry_s: float = 5.0,
    check_s: float = 2.0,
    on_elected: Callable[[], None] | None = None,
    on_demoted: Callable[[str], None] | None = None,
    on_replan_requested: Callable[[], object] | None = None,
) -> Leadership:
    """The leadership that fits the database: an advisory lock on PostgreSQL, a lock file on SQLite."""
    url = make_url(db_url)
    callbacks: dict[str, Any] = {
        "retry_s": retry_s,
        "check_s": check_s,
        "on_elected": on_elected,
        "on_demoted": on_demoted,
        "on_replan_requested": on_replan_requested,
    }
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(db_url, name=name, **callbacks)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database).resolve()
        return FileLeadership(database.with_name(f"{database.name}.{name}.lock"), **callbacks)
    return AlwaysLeader(**callbacks)
