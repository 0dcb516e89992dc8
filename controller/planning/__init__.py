"""Broadcast windows and the planner (DESIGN §7): schedule files in, per-device plans out.

Owns `schedules/*.toml` parsing, window occurrences and the pure `plan(inputs, now)`. It must not touch
the database, MQTT, signing or the clock; the caller gathers the inputs and publishes the result.
"""

from controller.planning.model import (
    VIETNAMESE,
    AudioVersion,
    PlannedBulletin,
    PlannedDevice,
    PlanningInputs,
    PlanningRules,
    ScheduleMode,
)
from controller.planning.planner import plan
from controller.planning.result import DeferReason, Deferred, DevicePlan, Placement, PlanningResult
from controller.planning.windows import (
    Schedule,
    ScheduleError,
    WindowOccurrence,
    current_or_next,
    load_schedule,
    occurrences,
    parse_schedule,
    upcoming,
)

__all__ = [
    "VIETNAMESE",
    "AudioVersion",
    "DeferReason",
    "Deferred",
    "DevicePlan",
    "Placement",
    "PlannedBulletin",
    "PlannedDevice",
    "PlanningInputs",
    "PlanningResult",
    "PlanningRules",
    "Schedule",
    "ScheduleError",
    "ScheduleMode",
    "WindowOccurrence",
    "current_or_next",
    "load_schedule",
    "occurrences",
    "parse_schedule",
    "plan",
    "upcoming",
]
