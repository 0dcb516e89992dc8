"""What the planner returns: per-device items, placements for operators, deferrals, emergencies.

Owns the output shapes and turning them into protocol `PlanBody` values. It must not sign, publish or
version plans itself: the caller passes the version numbers and does the MQTT side.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from controller.planning.model import PlannedDevice
from controller.planning.windows import WindowOccurrence
from protocol import PlanBody, PlanItem, SourcedItem

DeferReason = Literal[
    "window_full",
    "beyond_horizon",
    "expired",
    "too_long",
    "no_version",
    "unknown_device",
    "unsupported_source",
]


@dataclass(frozen=True)
class Deferred:
    """A bulletin that did not get (or did not keep) a place on a device, and why.

    `window_full` means it rolled on from `window` and may still be placed in a later one (for a relay
    slot: another relay slot holds its time there); every other reason means it is not in this plan
    (`window` is where it was tried, or None). `unsupported_source`: the device's agent is too old for it.
    """

    bulletin_id: int
    device_id: str
    reason: DeferReason
    window: WindowOccurrence | None = None


@dataclass(frozen=True)
class Placement:
    """Where a bulletin plays on a device: its window occurrence and the span of its language versions."""

    bulletin_id: int
    device_id: str
    window: WindowOccurrence
    planned_start: datetime
    planned_end: datetime
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class DevicePlan:
    """One device's window programme (sorted by planned_start) and its emergency items to send at once."""

    device: PlannedDevice
    items: tuple[PlanItem, ...]
    emergencies: tuple[PlanItem, ...]
    sourced: tuple[SourcedItem, ...] = ()  # relay slots, by planned_start

    def plan_body(self, version: int, generated_at: datetime) -> PlanBody:
        """The protocol plan body for this device, ready to sign and publish."""
        return PlanBody(
            version=version,
            generated_at=generated_at,
            timezone=self.device.schedule.timezone.key,
            windows=self.device.schedule.windows,
            items=self.items,
            volume=self.device.volume,
            sourced=self.sourced,
            areas=self.device.areas,
        )


@dataclass(frozen=True)
class PlanningResult:
    """The planner's answer for one `now`; every tuple is in a fixed, documented order."""

    now: datetime
    devices: tuple[DevicePlan, ...]  # by device_id
    placements: tuple[Placement, ...]  # by device_id, then planned_start
    deferred: tuple[Deferred, ...]  # by device_id, then the order the planner met them

    def device(self, device_id: str) -> DevicePlan:
        """The plan of one device (KeyError if it was not among the inputs)."""
        for plan in self.devices:
            if plan.device.device_id == device_id:
                return plan
        raise KeyError(device_id)

    @property
    def emergencies(self) -> Mapping[str, tuple[PlanItem, ...]]:
        """Device id → the emergency items to send as play_now commands, for devices that have any."""
        return {p.device.device_id: p.emergencies for p in self.devices if p.emergencies}

    def plan_bodies(self, version_for: Callable[[str], int]) -> dict[str, PlanBody]:
        """Device id → its plan body, versioned by `version_for(device_id)` and generated at `now`."""
        return {
            p.device.device_id: p.plan_body(version_for(p.device.device_id), self.now) for p in self.devices
        }
