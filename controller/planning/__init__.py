"""Broadcast windows and the planner (DESIGN §7): schedule files in, per-device plans out.

Owns `schedules/*.toml` parsing, window occurrences and the pure `plan(inputs, now)`. It must not touch
the database, MQTT, signing or the clock; the caller gathers the inputs and publishes the result.
"""

from controller.planning.isolation import PlanningFailure, guarded, plan_isolated, planning_health
from controller.planning.model import (
    LOCAL_LEVEL,
    VIETNAMESE,
    AudioVersion,
    PlannedBulletin,
    PlannedDevice,
    PlanningInputs,
    PlanningRules,
)
from controller.planning.options import (
    SCHEDULE_MODES,
    BulletinSchedule,
    Pin,
    ScheduleMode,
    ScheduleOptions,
    schedule_from_options,
)
from controller.planning.planner import plan
from controller.planning.result import DeferReason, Deferred, DevicePlan, Placement, PlanningResult
from controller.planning.schedule_file import (
    Override,
    ScheduleFile,
    error_line,
    load_schedule_file,
    parse_schedule_file,
)
from controller.planning.timeline import Timeline, WindowTimeline, timeline
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
    "LOCAL_LEVEL",
    "SCHEDULE_MODES",
    "VIETNAMESE",
    "AudioVersion",
    "BulletinSchedule",
    "DeferReason",
    "Deferred",
    "DevicePlan",
    "Override",
    "Pin",
    "Placement",
    "PlannedBulletin",
    "PlannedDevice",
    "PlanningFailure",
    "PlanningInputs",
    "PlanningResult",
    "PlanningRules",
    "Schedule",
    "ScheduleError",
    "ScheduleFile",
    "ScheduleMode",
    "ScheduleOptions",
    "Timeline",
    "WindowOccurrence",
    "WindowTimeline",
    "current_or_next",
    "error_line",
    "guarded",
    "load_schedule",
    "load_schedule_file",
    "occurrences",
    "parse_schedule",
    "parse_schedule_file",
    "plan",
    "plan_isolated",
    "planning_health",
    "schedule_from_options",
    "timeline",
    "upcoming",
]
