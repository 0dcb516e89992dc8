"""Scheduler leadership (controller.leader) against a real PostgreSQL and real SQLite files."""

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from controller.leader import (
    AlwaysLeader,
    FileLeadership,
    Leadership,
    PostgresLeadership,
    advisory_key,
    leadership_for,
)
from tests.support.services import free_port

FAST: dict[str, Any] = {"retry_s": 0.2, "check_s": 0.2}
TIMEOUT = 5.0


class Recorder:
    """The callbacks of one Leadership, as events a test can wait for."""

    def __init__(self) -> None:
        self.elected = threading.Event()
        self.demoted = threading.Event()
        self.replan = threading.Event()
        self.reasons: list[str] = []

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_elected": self.elected.set,
            "on_demoted": lambda reason: (self.reasons.append(reason), self.demoted.set()),
            "on_replan_requested": self.replan.set,
        }


@pytest.fixture
def stopping() -> Iterator[list[Leadership]]:
    """Leaderships to stop when the test ends, whatever happened."""
    started: list[Leadership] = []
    yield started
    for leadership in started:
        leadership.stop()


def test_the_advisory_key_is_a_stable_signed_64_bit_number() -> None:
    key = advisory_key("loaxa-scheduler")
    assert key == advisory_key("loaxa-scheduler") != advisory_key("loaxa-other")
    assert -(2**63) <= key < 2**63


@pytest.mark.postgres
def test_one_of_two_processes_leads_and_the_other_takes_over_when_its_connection_dies(
    postgres_url: str, stopping: list[Leadership]
) -> None:
    name = f"loaxa-test-{uuid.uuid4().hex[:8]}"  # a lock of its own: the session's server is shared
    first, second = Recorder(), Recorder()
    a = leadership_for(postgres_url, name=name, **FAST, **first.callbacks())
    b = leadership_for(postgres_url, name=name, **FAST, **second.callbacks())
    assert isinstance(a, PostgresLeadership) and isinstance(b, PostgresLeadership)
    stopping += [a, b]
    a.start()
    b.start()
    assert first.elected.is_set() and (a.role, b.role) == ("leader", "follower")
    assert not second.elected.wait(3 * FAST["retry_s"])  # b keeps trying, and keeps failing

    # A follower's NOTIFY reaches the leader, which listens on its lock connection.
    b.signal_leader()
    assert first.replan.wait(TIMEOUT)

    # The server drops the leader's session (as when its process dies or the network cuts it off).
    assert a._conn is not None
    backend = a._conn.info.backend_pid
    admin = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (backend,)).fetchone() == (True,)
    assert first.demoted.wait(TIMEOUT) and a.role == "follower"
    assert second.elected.wait(TIMEOUT) and b.role == "leader"
    assert first.reasons  # the log and the callback say why

    # Stopping the leader frees the lock at once: the first one leads again.
    first.elected.clear()
    b.stop()
    assert first.elected.wait(TIMEOUT) and a.role == "leader"


def test_a_process_whose_database_is_unreachable_follows(stopping: list[Leadership]) -> None:
    port = free_port()  # nothing listens there
    recorder = Recorder()
    leadership = leadership_for(
        f"postgresql+psycopg://loaxa@127.0.0.1:{port}/loaxa", **FAST, **recorder.callbacks()
    )
    stopping.append(leadership)
    leadership.start()
    assert leadership.role == "follower" and not recorder.elected.is_set()


def test_sqlite_file_one_process_leads_a_second_follows_and_signals_it(
    tmp_path: Path, stopping: list[Leadership]
) -> None:
    url = f"sqlite:///{tmp_path / 'loaxa.db'}"
    first, second = Recorder(), Recorder()
    a = leadership_for(url, **FAST, **first.callbacks())
    b = leadership_for(url, **FAST, **second.callbacks())
    assert isinstance(a, FileLeadership) and a.lock_path.parent == tmp_path
    stopping += [a, b]
    a.start()
    b.start()
    assert (a.role, b.role) == ("leader", "follower")

    b.signal_leader()
    assert first.replan.wait(TIMEOUT)

    a.stop()
    assert second.elected.wait(TIMEOUT) and b.role == "leader"


def test_a_private_sqlite_database_is_always_the_leader(stopping: list[Leadership]) -> None:
    recorder = Recorder()
    leadership = leadership_for("sqlite://", **FAST, **recorder.callbacks())
    assert isinstance(leadership, AlwaysLeader)
    stopping.append(leadership)
    leadership.start()
    assert recorder.elected.is_set() and leadership.role == "leader"
