"""Request and response shapes of the REST API (DESIGN §8), as strict pydantic models.

Owns what a client may send (unknown fields are refused) and what it gets back; the served OpenAPI is
generated from these. Must not hold domain rules: the services decide what a valid bulletin is beyond
its shape.
"""

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from controller.db.models import BULLETIN_STATUSES
from protocol import Priority

#: The `responses` argument of APIFlask's `doc()`, for entries that carry a content type.
ResponsesDoc = dict[int | str, dict[str, str | dict[str, dict[str, Any]]]]
CommandName = Literal["stop", "set_volume", "test_tone", "resync"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class TokenIn(_In):
    """Credentials for a bearer token."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(_Out):
    """A bearer token, shown once."""

    token: str
    expires_at: datetime


_SCHEDULE_DOC = (
    '{"mode": "next_window"} (default), {"mode": "dates", "dates": ["YYYY-MM-DD", ...]}, or '
    '{"mode": "daily", "days": N, "start_date": "YYYY-MM-DD", "weekdays": [0=Monday … 6]}; each may add '
    '"windows": [names], "start_time": "HH:MM" (earliest start inside the window), "repeat": plays per '
    'window (1–10), "expires_at": ISO date-time with zone, and for emergencies "emergency_repeat" (1–20) '
    'and "emergency_gap_s" (0–600). See docs/scheduling.md.'
)


class BulletinIn(_In):
    """A new bulletin: text to speak (JSON), or recorded audio (multipart, with an `audio` file part).

    Targets and schedule are checked by the bulletin service, which names any unknown key.
    """

    title: str = Field(description="Short title, shown in lists.")
    text: str | None = Field(
        None,
        description="What to read out; for a recording, what it says (shown to approvers). Required unless "
        "`source` is given.",
    )
    priority: Priority = "normal"
    targets: dict[str, Any] = Field(
        description='Exactly one of {"all": true}, {"villages": [ids]}, {"clusters": [device ids]}.'
    )
    schedule: dict[str, Any] | None = Field(
        None,
        description=_SCHEDULE_DOC,
    )
    source: dict[str, Any] | None = Field(
        None,
        description='A relay slot instead of text: {"kind": "relay", "station": ID, "duration_s": N}; its '
        'schedule needs "start_time" and the whole slot must lie inside one window (docs/streaming.md).',
    )


class EmergencyIn(_In):
    """An emergency to put on air at once (one person; a second approver under the two-person rule)."""

    title: str = Field(description="Short title, shown in lists.")
    text: str = Field(description="What to read out, at once, on every target.")
    targets: dict[str, Any] = Field(
        description='Exactly one of {"all": true}, {"villages": [ids]}, {"clusters": [device ids]}.'
    )


class BulletinEditIn(_In):
    """Changes to a draft, pending or approved bulletin; an approved one goes back to pending."""

    title: str | None = Field(None, description="New title.")
    text: str | None = Field(None, description="New text (speech is rendered again).")
    targets: dict[str, Any] | None = Field(None, description="New targets, as in BulletinIn.")
    schedule: dict[str, Any] | None = Field(None, description=_SCHEDULE_DOC)


class RejectIn(_In):
    """Why a bulletin is sent back to its author."""

    reason: str = Field(description="Shown to the author; required.")


class ChangedOut(_Out):
    """A bulletin's id and status after a change."""

    id: int
    status: str


class AudioOut(_Out):
    """One audio version of a bulletin."""

    sha256: str
    duration_ms: int
    engine: str | None
    language: str
    kind: str


class DeliveryOut(_Out):
    """Where a bulletin stands on one device."""

    device: str
    state: str
    played_at: datetime | None
    item_id: str | None
    planned_start: datetime | None
    reason: str | None  # why it was skipped or failed, as the agent said (e.g. window_closed)


class BulletinOut(_Out):
    """A bulletin with its audio and per-device deliveries."""

    id: int
    title: str
    text: str
    priority: str
    status: str
    targets: dict[str, object]
    schedule: dict[str, object]
    author: str | None
    approver: str | None
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime
    audio: AudioOut | None
    audios: list[AudioOut]
    deliveries: list[DeliveryOut]
    source: dict[str, object] | None = None


class BulletinsQuery(_In):
    """Filters and paging of the bulletin list."""

    status: str | None = Field(None, description=f"One of {', '.join(BULLETIN_STATUSES)}.")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str | None) -> str | None:
        if value is not None and value not in BULLETIN_STATUSES:
            raise ValueError(f"unknown status {value!r}; use one of {', '.join(BULLETIN_STATUSES)}")
        return value


class BulletinList(_Out):
    """Bulletins, newest first."""

    items: list[BulletinOut]


class DeviceOut(_Out):
    """A device (an edge agent at a loudspeaker cluster) and its health."""

    id: str
    name: str
    village: str
    speakers: int
    online: bool
    last_seen: datetime | None
    uptime_24h: float | None = Field(description="Fraction of the last 24 h covered by heartbeats, 0–1.")
    uptime_7d: float | None = None
    agent_version: str | None = None
    plan_version: int | None = None
    metrics: dict[str, object] | None = None
    dead_air_last: "DeadAirOut | None" = Field(None, description="The device's last dead air (detail only).")


class DeadAirOut(_Out):
    """Dead air a device reported: silent (below -50 dBFS) or broken (no audio) for more than 10 s."""

    started_at: datetime
    duration_s: float = Field(description="How long it lasted (so far, when ongoing).")
    kind: str = Field(description="silent or broken")
    ongoing: bool
    item_id: str | None = None
    session: str | None = None


class DeviceList(_Out):
    """All devices."""

    items: list[DeviceOut]


class DeviceIn(_In):
    """A device to provision."""

    id: str = Field(description="Device id = MQTT username, e.g. tule-c13.")
    name: str
    village: str = Field(description="Village id.")
    speakers: int = Field(2, strict=True, description="Loudspeakers at this cluster.")


class CredentialsOut(_Out):
    """The device's MQTT credentials; the password is shown this once only."""

    username: str
    password: str
    broker_url: str
    public_keys: list[str]  # the controller's plan-signing keys, for agent.toml


class ProvisionedOut(_Out):
    """A newly provisioned device and its credentials."""

    device: DeviceOut
    credentials: CredentialsOut


class CommandIn(_In):
    """A one-off command for a device."""

    command: CommandName
    # strict: JSON `true` is not the number 1 (issue 20: it set volume 1).
    volume: int | None = Field(None, ge=0, le=100, strict=True, description="set_volume only.")
    duration_s: int | None = Field(None, ge=1, le=60, strict=True, description="test_tone only.")

    @model_validator(mode="after")
    def _volume_for_set_volume(self) -> Self:
        if (self.command == "set_volume") != (self.volume is not None):
            raise ValueError("volume (0–100) is required for set_volume and only for it")
        if self.duration_s is not None and self.command != "test_tone":
            raise ValueError("duration_s is only for test_tone")
        return self


class AcceptedOut(_Out):
    """A command handed to the broker."""

    device: str
    command: str
    status: Literal["sent"] = "sent"


class PreviewIn(_In):
    """Text to normalize and read out."""

    text: str = Field(min_length=1, description="Bulletin text; length limits are those of text to speech.")


class PreviewOut(_Out):
    """The text as it will be read, and where to listen to it."""

    normalized_text: str
    audio_url: str
    engine: str
    sha256: str


class PlaysQuery(_In):
    """Filters of the as-run log; times are ISO 8601 with a zone (e.g. 2026-11-22T05:00:00Z)."""

    from_: AwareDatetime | None = Field(None, alias="from")
    to: AwareDatetime | None = None
    device: str | None = None
    bulletin: int | None = None


class GapOut(_Out):
    """A stretch of a relay or live play when its stream did not air (a filler may have)."""

    started_at: datetime
    ended_at: datetime
    url: str | None = Field(description="The stream URL that failed.")
    reason: str | None = Field(description="refused, not_found, not_audio, ended, stalled, no_audio, ...")
    detail: str | None = Field(description="What came after: the URL it resumed from, filler airtime.")


class PlayOut(_Out):
    """One entry of the as-run log."""

    bulletin_id: int | None
    device: str
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    source: dict[str, Any] = Field(
        default_factory=lambda: {"kind": "file"},
        description='What it aired: {"kind": "file"} (a bulletin\'s audio) or '
        '{"kind": "relay", "station": ID}.',
    )
    url: str | None = Field(None, description="The stream a relay or live play started on.")
    session: str | None = Field(None, description="A live play's session.")
    gaps: list[GapOut] = Field(default_factory=list, description="When a relay or live stream did not air.")


class PlayList(_Out):
    """As-run log entries, oldest first."""

    items: list[PlayOut]


class LeftOutOut(_Out):
    """A bulletin the latest planning run left out, and the error that made it unplannable."""

    bulletin_id: int
    reason: str


class PlanningHealthOut(_Out):
    """The planner on this process: "ok", "partial" (bulletins left out) or "failed" (the last run)."""

    state: str
    error: str | None = None
    left_out: list[LeftOutOut] = Field(default_factory=list)


class HealthOut(_Out):
    """Liveness of the controller and what it depends on."""

    model_config = ConfigDict(frozen=True, extra="allow")

    status: str
    db: str
    mqtt: str
    planning: PlanningHealthOut | None = None


class AreaIn(_In):
    """An area to create (DESIGN §8, §11)."""

    code: str = Field(
        description="Official code: province 2 digits, district 3, commune 5; a village's code is chosen by "
        "its commune (lowercase letters, digits, '-')."
    )
    name: str = Field(description="Vietnamese name, e.g. Xã Tú Lệ.")
    level: Literal["province", "district", "commune", "village"]
    parent: str | None = Field(None, description="Code of the area above; a province has none.")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    languages: list[str] | None = Field(None, description='A village\'s languages, e.g. ["vi", "thai"].')


class AreaPatch(_In):
    """A new name, a new parent (null: none), or both."""

    name: str | None = None
    parent: str | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set & {"name", "parent"}:
            raise ValueError("give a new name, a new parent, or both")
        return self


class AreaOut(_Out):
    """An area."""

    code: str
    name: str
    level: str
    parent: str | None
    lat: float | None
    lon: float | None
    languages: list[str]
    retired: bool


class AreaList(_Out):
    """Areas, top level first."""

    items: list[AreaOut]
