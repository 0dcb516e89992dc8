"""What the planner reads: approved bulletins, devices and the planning rules, as frozen dataclasses.

Owns the input shapes and their checks (aware datetimes, known priorities, one version per language).
It must not read the database, the clock or the network: the caller builds these values.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from controller.planning.options import BulletinSchedule, Pin
from controller.planning.windows import Schedule
from protocol import Asset, Priority
from protocol.plan import PRIORITIES

VIETNAMESE: Final = "vi"
LOCAL_LEVEL: Final = 2  # a bulletin of the commune itself
_LANGUAGE = re.compile(r"[a-z][a-z0-9_]{0,15}")


@dataclass(frozen=True)
class AudioVersion:
    """One language version of a bulletin; the asset carries a URL the caller has already signed."""

    language: str
    asset: Asset

    def __post_init__(self) -> None:
        if not _LANGUAGE.fullmatch(self.language):
            raise ValueError(
                f"language code {self.language!r}: use 1–16 of a-z, 0-9 and _, e.g. 'vi', 'thai'"
            )


@dataclass(frozen=True)
class RelaySource:
    """A relay slot's sound: a station's stream URLs in order (the controller's relay last), for so long.

    The caller has signed the URLs; the bulletin's Vietnamese version is the filler agents loop while
    no URL plays.
    """

    station: str
    urls: tuple[str, ...]
    duration: timedelta

    def __post_init__(self) -> None:
        if not self.urls or self.duration <= timedelta(0) or self.duration % timedelta(seconds=1):
            raise ValueError(f"relay of station {self.station}: needs URLs and a whole number of seconds > 0")


@dataclass(frozen=True)
class PlannedBulletin:
    """An approved, not cancelled bulletin and the devices that still have to play it."""

    bulletin_id: int
    priority: Priority
    approved_at: datetime
    device_ids: frozenset[str]
    versions: tuple[AudioVersion, ...]
    expires_at: datetime | None = None
    schedule: BulletinSchedule = field(default_factory=BulletinSchedule)
    revision: int = 0  # raised each time an approved bulletin is edited: its items get new ids
    relay: RelaySource | None = None  # a relay slot: placed at its start time, plays the station
    # Depth of the sending area (DESIGN §11): 0 province, 1 district, 2 the commune itself. Within one
    # priority, items from higher up go first, except on `yields_on`: devices whose commune operator put
    # the commune's own items of that priority first.
    level: int = LOCAL_LEVEL
    yields_on: frozenset[str] = frozenset()
    volume: int | None = None  # 0–100 on every device (a drill's set volume); None: each device's own

    def __post_init__(self) -> None:
        where = f"bulletin {self.bulletin_id}"
        if self.volume is not None and not 0 <= self.volume <= 100:
            raise ValueError(f"{where}: volume must be 0–100 or None, got {self.volume}")
        if self.relay is not None and (self.priority == "emergency" or self.schedule.start_time is None):
            raise ValueError(f"{where}: a relay slot needs a start time and may not be an emergency")
        if self.bulletin_id < 1 or self.priority not in PRIORITIES or min(self.revision, self.level) < 0:
            raise ValueError(
                f"{where}: bad id, priority {self.priority!r}, revision {self.revision} or level {self.level}"
            )
        for moment in (self.approved_at, self.expires_at):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"{where}: naive datetime {moment}; pass aware datetimes (UTC)")
        languages = [v.language for v in self.versions]
        if not languages or len(set(languages)) != len(languages):
            raise ValueError(f"{where}: needs audio versions with one per language, got {languages}")

    def rank_on(self, device_id: str) -> int:
        """Where it goes among items of its priority on one device: lower first (its level, or last)."""
        return LOCAL_LEVEL + 1 if device_id in self.yields_on else self.level

    def versions_for(self, languages: frozenset[str]) -> tuple[AudioVersion, ...]:
        """The versions a device with these languages plays: Vietnamese first, then the others as given."""
        wanted = [v for v in self.versions if v.language == VIETNAMESE or v.language in languages]
        return tuple(sorted(wanted, key=lambda v: v.language != VIETNAMESE))


@dataclass(frozen=True)
class PlannedDevice:
    """A loudspeaker cluster: the languages of its villages, its windows, its volume and its areas."""

    device_id: str
    languages: frozenset[str]
    schedule: Schedule
    volume: int = 80
    busy_until: datetime | None = None  # nothing is planned to start before this (e.g. a long item playing)
    reads_sources: bool = True  # its agent reads items with a `source` (protocol.sources.reads_sources)
    areas: tuple[str, ...] = ()  # area codes whose area topics it listens to (its village, its commune)

    def __post_init__(self) -> None:
        if not self.device_id or not 0 <= self.volume <= 100:
            raise ValueError(f"device {self.device_id!r}: needs an id and a volume 0–100, got {self.volume}")
        if self.busy_until is not None and self.busy_until.utcoffset() is None:
            raise ValueError(f"device {self.device_id}: naive busy_until; pass an aware datetime (UTC)")


@dataclass(frozen=True)
class PlanningRules:
    """The knobs of the planner; the defaults suit a commune on 4G."""

    gap: timedelta = timedelta(seconds=3)  # silence between two items on one device
    lead: timedelta = timedelta(seconds=60)  # time for the plan and the audio to reach the device
    horizon: int = 2  # window occurrences planned ahead per device, the open one included
    emergency_validity: timedelta = timedelta(hours=3)  # how long a play_now item may still start

    def __post_init__(self) -> None:
        if (
            self.horizon < 1
            or min(self.gap, self.lead) < timedelta(0)
            or self.emergency_validity <= timedelta(0)
        ):
            raise ValueError(f"planning rules: horizon ≥ 1, gap and lead ≥ 0, validity > 0; got {self}")
        if any(span % timedelta(seconds=1) for span in (self.gap, self.lead, self.emergency_validity)):
            raise ValueError(f"planning rules: use whole seconds (plans are in whole seconds); got {self}")


@dataclass(frozen=True)
class PlanningInputs:
    """Everything the planner reads besides `now`; order does not matter, ids must be unique.

    `pins` are the items of the plans already published: an item that is planned again in the same window
    occurrence keeps its published start when it still fits and the window is open or opens within the
    lead time, so replanning does not churn plans while agents play them.
    """

    bulletins: tuple[PlannedBulletin, ...]
    devices: tuple[PlannedDevice, ...]
    rules: PlanningRules = PlanningRules()
    pins: tuple[Pin, ...] = ()

    def __post_init__(self) -> None:
        for what, ids in (
            ("bulletin", [str(b.bulletin_id) for b in self.bulletins]),
            ("device", [d.device_id for d in self.devices]),
        ):
            repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
            if repeated:
                raise ValueError(f"{what} ids must be unique; repeated: {', '.join(repeated)}")
