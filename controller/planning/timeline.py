"""A village's broadcast timeline: each window occurrence, what is placed in it and what overflowed.

Built from one planning result for any group of devices (a village's clusters). Owns that read-only view
for operators (the UI draws it). It must not plan, read the database or the clock.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from controller.planning.result import Deferred, Placement, PlanningResult
from controller.planning.windows import Schedule, WindowOccurrence, occurrences


@dataclass(frozen=True)
class WindowTimeline:
    """One window occurrence: the placements in it (by start, then device) and what did not fit in it."""

    window: WindowOccurrence
    placed: tuple[Placement, ...]
    deferred: tuple[Deferred, ...]  # reason window_full: rolled on to a later window (or past the horizon)


@dataclass(frozen=True)
class Timeline:
    """The window occurrences of a span, and the bulletins that have no place on some device at all."""

    windows: tuple[WindowTimeline, ...]
    unplaced: tuple[Deferred, ...]  # expired, too_long, beyond_horizon, no_version, unknown_device


def timeline(
    result: PlanningResult,
    schedule: Schedule,
    device_ids: Collection[str],
    start: datetime,
    end: datetime,
) -> Timeline:
    """The occurrences of `schedule` in [start, end) with the placements and deferrals of `device_ids`."""
    devices = set(device_ids)
    placed = [p for p in result.placements if p.device_id in devices]
    deferred = [d for d in result.deferred if d.device_id in devices]
    windows = tuple(
        WindowTimeline(
            window=occurrence,
            placed=tuple(
                sorted(
                    (p for p in placed if p.window == occurrence),
                    key=lambda p: (p.planned_start, p.device_id),
                )
            ),
            deferred=tuple(d for d in deferred if d.reason == "window_full" and d.window == occurrence),
        )
        for occurrence in occurrences(schedule, start, end)
    )
    return Timeline(windows, tuple(d for d in deferred if d.reason != "window_full"))
