"""Fencing the planner of a process that may stop being the scheduler leader at any moment.

Owns the two wrappers the dispatcher gets in place of the MQTT link and the database: once this process no
longer leads, what a planning run would publish is refused and its next database session raises
LeadershipLost. Knows nothing of how leadership is won or lost (controller.leader does).
"""

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.orm import Session

from controller.db import Database
from controller.mqtt.client import MqttLink

log = logging.getLogger(__name__)


class LeadershipLost(RuntimeError):
    """A planning run found that this process is no longer the scheduler leader."""


class LeaderFence:
    """The dispatcher's publisher: the MQTT link, except that planner publishes need leadership.

    Fencing: a leader that lost its lock (a dead database connection) may still be in the middle of a
    planning run; from the moment `is_leader` turns false, what that run would publish is refused, so two
    processes never publish plans or emergencies side by side, and the run's next database session is
    refused too (see FencedDatabase), so it stores no more plan versions. Publishes outside a planning
    run (an operator's command from the web layer) pass in any process.
    """

    def __init__(self, link: MqttLink, is_leader: Callable[[], bool]) -> None:
        self._link = link
        self._is_leader = is_leader
        self._local = threading.local()

    @contextmanager
    def planning(self) -> Iterator[None]:
        """Mark the current thread's publishes as the planner's until the block ends."""
        self._local.planning = True
        try:
            yield
        finally:
            self._local.planning = False

    def check(self) -> None:
        """Raise LeadershipLost if the current thread is planning and this process no longer leads."""
        if getattr(self._local, "planning", False) and not self._is_leader():
            raise LeadershipLost("this process is no longer the scheduler leader")

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, timeout: float | None = 5.0
    ) -> bool:
        """Publish through the link, unless this is the planner's and the process no longer leads."""
        if getattr(self._local, "planning", False) and not self._is_leader():
            log.warning("not publishing to %s: this process is no longer the scheduler leader", topic)
            return False
        return self._link.publish(topic, payload, retain=retain, timeout=timeout)

    def publish_many(
        self, messages: Sequence[tuple[str, bytes, bool]], *, timeout: float = 5.0
    ) -> list[bool]:
        """Publish a batch through the link with one wait; none if the planner's and no longer leading."""
        if getattr(self._local, "planning", False) and not self._is_leader():
            log.warning(
                "not publishing %d messages: this process is no longer the scheduler leader", len(messages)
            )
            return [False] * len(messages)
        return self._link.publish_many(messages, timeout=timeout)


class FencedDatabase(Database):
    """The dispatcher's view of the database: the same engine, but a demoted planner gets no session."""

    def __init__(self, db: Database, fence: LeaderFence) -> None:
        # Not Database.__init__: that would open a second engine and pool; this one shares the process's.
        self.engine = db.engine
        self.sessions = db.sessions
        self._fence = fence

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session of the shared engine, unless a planning run lost leadership (LeadershipLost)."""
        self._fence.check()
        with super().session() as session:
            yield session
