"""One bad bulletin never stops planning for everyone: build and plan each bulletin apart when one fails.

Owns `PlanningFailure` (a bulletin left out of a planning run, and why), `guarded` (build one bulletin's
planner input, or record why it could not be built) and `plan_isolated` (plan everything; when that
fails, find the bulletins that fail on their own, leave them out and plan the rest). It must not touch
the database, the clock or MQTT; the caller logs, keeps and reports the failures.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TypeVar

from controller.planning.model import PlanningInputs
from controller.planning.planner import plan
from controller.planning.result import PlanningResult

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class PlanningFailure:
    """A bulletin left out of a planning run: its id and the error that made it unplannable."""

    bulletin_id: int
    reason: str


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def guarded(bulletin_id: int, failures: list[PlanningFailure], build: Callable[[], T]) -> T | None:
    """`build()`, or None after recording why it failed for this bulletin (the run goes on without it).

    Only pure steps go through here (reading stored options); a database error still fails the run.
    """
    try:
        return build()
    except Exception as exc:  # any error of one bulletin's data: OverflowError, ValueError, KeyError, ...
        failures.append(PlanningFailure(bulletin_id, _reason(exc)))
        log.error("bulletin %s left out of planning: %s", bulletin_id, _reason(exc))
        return None


def plan_isolated(
    inputs: PlanningInputs, now: datetime
) -> tuple[PlanningResult, tuple[PlanningFailure, ...]]:
    """Plan every bulletin; if that fails, plan each alone, leave out those that fail and plan the rest.

    The slow path runs only after a failure. A failure that no single bulletin causes (the devices'
    inputs, or two bulletins together) still raises: the caller's run fails and health says so.
    """
    try:
        return plan(inputs, now), ()
    except Exception as first:  # a pure function failed on some input: find which one below
        log.error("planning run failed (%s); planning each bulletin alone to find the cause", _reason(first))
    failures: list[PlanningFailure] = []
    kept = []
    for bulletin in inputs.bulletins:
        alone = replace(inputs, bulletins=(bulletin,))
        if guarded(bulletin.bulletin_id, failures, partial(plan, alone, now)):
            kept.append(bulletin)
    return plan(replace(inputs, bulletins=tuple(kept)), now), tuple(failures)


def planning_health(run_error: str | None, failures: tuple[PlanningFailure, ...]) -> dict[str, object]:
    """What health says of planning: "ok", "partial" (bulletins left out) or "failed" (the last run)."""
    state = "failed" if run_error else "partial" if failures else "ok"
    return {
        "state": state,
        "error": run_error,
        "left_out": [{"bulletin_id": f.bulletin_id, "reason": f.reason} for f in failures],
    }
