"""The controller's background work: one planner, one renderer, and the signaller to the leader.

Owns how work is queued and coalesced: a burst of changes plans once; a follower asks the leader to plan
instead of planning itself; speech renders one bulletin at a time, then asks for a planning run; a
re-publish of the stored plans runs on the planner's thread. What the work does is controller.dispatch
and controller.speech_upgrade; who leads is controller.leader.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Protocol

from controller.dispatch import Dispatcher
from controller.fencing import LeadershipLost
from controller.planning import PlanningFailure, planning_health

log = logging.getLogger(__name__)


class Leadership(Protocol):
    """What the workers need of the election."""

    @property
    def is_leader(self) -> bool:
        """Whether this process runs the planner now."""
        ...

    def signal_leader(self) -> None:
        """Ask the leader (another process) for a planning run."""
        ...


class Workers:
    """Queues planning runs, renders and re-publishes; safe to call from any thread."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        leadership: Callable[[], Leadership],
        planning: Callable[[], AbstractContextManager[object]],
        *,
        upgrade_speech: Callable[[], int],
        on_planned: Callable[[bool], None] = lambda _ok: None,
    ) -> None:
        self._dispatcher = dispatcher
        self._leadership = leadership  # built after the workers: asked for at each use
        self._planning = planning  # the leader fence: refuses a demoted planner its publishes
        self._upgrade_speech = upgrade_speech
        self._on_planned = on_planned
        # One planner at a time (it publishes versioned plans); speech renders beside it.
        self._planner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner")
        # One renderer: create, submit and approve each ask for speech; one after another, the second
        # and third find the first's result in the render cache instead of synthesizing it again.
        self._renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
        self._replan_queued = threading.Event()
        # A follower's re-plan requests go to the leader one at a time; a burst of events coalesces too.
        self._signaller = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replan-signal")
        self._signal_queued = threading.Event()
        self._stopped = threading.Event()
        self._planning_error: str | None = None  # why the latest planning run failed, for health

    def stop(self) -> None:
        """Finish what runs, drop what waits."""
        self._stopped.set()
        self._renderer.shutdown(wait=True, cancel_futures=True)
        self._planner.shutdown(wait=True, cancel_futures=True)
        self._signaller.shutdown(wait=True, cancel_futures=True)

    def health(self) -> dict[str, object]:
        """The latest planning run: ok, partial (bulletins left out) or failed, for GET /api/v1/health."""
        failures: tuple[PlanningFailure, ...] = self._dispatcher.planning_failures
        return planning_health(self._planning_error, failures)

    def request_replan(self) -> Future[None] | None:
        """Queue a planning run here if leader (bursts coalesce into one), else ask the leader for one."""
        if self._stopped.is_set():
            return None
        if not self._leadership().is_leader:
            self._signal_leader()
            return None
        if self._replan_queued.is_set():
            return None
        self._replan_queued.set()
        return self._planner.submit(self._replan)

    def republish(self, why: str) -> None:
        """Re-send the stored plans on the planner's thread (after an election or a broker reconnect)."""
        if not self._stopped.is_set():
            self._planner.submit(self._republish, why)

    def bulletin_changed(self, bulletin_id: int) -> None:
        """A bulletin was created, submitted, approved, cancelled …: render its speech if needed, re-plan."""
        if not self._stopped.is_set():
            self._renderer.submit(self._render_then_replan, bulletin_id)

    def upgrade_speech(self) -> None:
        """Queue a pass that reads fallback speech again once a better voice answers."""
        if not self._stopped.is_set():
            self._renderer.submit(self._upgrade)

    def _signal_leader(self) -> None:
        if self._signal_queued.is_set():
            return
        self._signal_queued.set()
        self._signaller.submit(self._send_signal)

    def _send_signal(self) -> None:
        self._signal_queued.clear()
        try:
            self._leadership().signal_leader()
        except Exception as exc:  # the leader's safety-net job (or the next election) plans it anyway
            log.warning("could not ask the scheduler leader to re-plan: %s: %s", type(exc).__name__, exc)

    def _republish(self, why: str) -> None:
        if not self._leadership().is_leader:
            return
        with self._planning():
            try:
                count = self._dispatcher.republish()
            except LeadershipLost as exc:
                log.warning("re-publishing stopped: %s", exc)
                return
            except Exception:
                log.exception(
                    "re-publishing the stored plans failed; the next planning run sends what changed"
                )
                return
        log.info("re-published %d stored plan(s) %s", count, why)

    def _replan(self) -> None:
        self._replan_queued.clear()
        if not self._leadership().is_leader:
            return  # demoted while queued: the new leader plans
        with self._planning():
            try:
                self._dispatcher.replan()
                self._planning_error = None
                self._on_planned(True)
            except LeadershipLost as exc:
                log.warning("planning run stopped: %s", exc)
            except Exception as exc:
                self._planning_error = f"{type(exc).__name__}: {exc}"[:300]
                self._on_planned(False)
                log.exception("planning run failed; the next change or the safety-net job retries it")

    def _render_then_replan(self, bulletin_id: int) -> None:
        try:
            self._dispatcher.render(bulletin_id)
            self._dispatcher.stop_cancelled(bulletin_id)
        except Exception:
            log.exception("bulletin %s: rendering or stopping failed", bulletin_id)
        self.request_replan()

    def _upgrade(self) -> None:
        try:
            upgraded = self._upgrade_speech()
        except Exception:
            log.exception("re-rendering fallback speech failed; the next pass retries it")
            return
        if upgraded:
            self.request_replan()
