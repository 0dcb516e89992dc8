"""Read models the services hand out: frozen, detached from the session, safe to serialize.

Owns the shapes callers see; must not query the database (the service modules fill these in).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from protocol import Priority


@dataclass(frozen=True)
class UserView:
    """A signed-in person as the services see them (pass it as `actor`)."""

    id: int
    username: str
    role: str
    commune_id: str | None
    active: bool


@dataclass(frozen=True)
class VillageView:
    """A village and the languages of its listeners."""

    id: str
    name: str
    commune_id: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class GapView:
    """A stretch of a relay or live play when its stream did not air (a filler may have)."""

    started_at: datetime
    ended_at: datetime
    url: str | None
    reason: str | None
    detail: str | None


@dataclass(frozen=True)
class DeadAirView:
    """A device's dead air: when it began, how long it lasted (so far, when `ongoing`), and its kind."""

    device_id: str
    started_at: datetime
    duration_s: float
    kind: str
    ongoing: bool
    item_id: str | None
    session: str | None


@dataclass(frozen=True)
class DeviceView:
    """An edge agent with its liveness and uptime fractions (0.0–1.0)."""

    id: str
    name: str
    village_id: str
    speakers: int
    online: bool
    last_seen: datetime | None
    boot_id: str | None
    bdseq: int | None
    agent_version: str | None
    plan_version: int | None
    metrics: dict[str, Any] | None
    uptime_24h: float
    uptime_7d: float
    created_at: datetime
    dead_air_last: DeadAirView | None = None  # set by get_device (issue 13)


@dataclass(frozen=True)
class ProvisionedDevice:
    """A new device and its MQTT password, which is shown this once and stored only as a hash."""

    device: DeviceView
    mqtt_password: str


@dataclass(frozen=True)
class AudioView:
    """One language version of a bulletin."""

    language: str
    kind: str
    sha256: str
    duration_ms: int
    engine: str | None
    position: int


@dataclass(frozen=True)
class DeliveryView:
    """Where a bulletin stands on one device."""

    device_id: str
    state: str
    item_id: str | None
    planned_start: datetime | None
    played_at: datetime | None
    reason: str | None
    updated_at: datetime


@dataclass(frozen=True)
class BulletinView:
    """A bulletin with its audio versions and per-device deliveries."""

    id: int
    title: str
    text: str
    priority: Priority
    status: str
    targets: dict[str, Any]
    schedule: dict[str, Any]
    commune_id: str | None
    author: str
    approver: str | None
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    rejected_at: datetime | None
    cancelled_at: datetime | None
    ended_at: datetime | None
    expires_at: datetime | None
    audio: tuple[AudioView, ...]
    deliveries: tuple[DeliveryView, ...]
    source: dict[str, Any] | None = None  # a relay slot's {"kind": "relay", "station", "duration_s"}


@dataclass(frozen=True)
class PlayView:
    """One row of the as-run log."""

    device_id: str
    bulletin_id: int | None
    item_id: str | None
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    reason: str | None
    source: dict[str, Any] = field(default_factory=lambda: {"kind": "file"})  # what it aired
    url: str | None = None  # the stream a relay or live play started on
    session: str | None = None  # a live play's session
    gaps: tuple[GapView, ...] = ()  # when a relay or live play's stream did not air


@dataclass(frozen=True)
class Gap:
    """A stretch of time without heartbeat coverage."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class UptimeReport:
    """Uptime of one device over [start, end]: the covered fraction and the gaps between."""

    device_id: str
    start: datetime
    end: datetime
    fraction: float
    gaps: tuple[Gap, ...]


@dataclass(frozen=True)
class AuditView:
    """One audit log entry."""

    at: datetime
    actor: str | None
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class AssetView:
    """An audio file in the content-addressed store."""

    sha256: str
    bytes: int
    duration_ms: int
    mime: str
    engine: str | None
    voice: str | None
    language: str | None
    normalized_text: str | None
    cache_key: str | None
    created_at: datetime
