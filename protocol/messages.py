"""Message shapes of DESIGN §5 as frozen dataclasses, each with a strict reader and a writer.

Readers refuse wrong types and missing fields; they ignore unknown fields, so a newer controller can add
optional fields without breaking older agents in the field (breaking changes bump the envelope `v`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, cast

from protocol._fields import Fields
from protocol.errors import ProtocolError
from protocol.timefmt import format_utc

Priority = Literal["normal", "priority", "emergency"]
PRIORITIES: Final[tuple[Priority, ...]] = ("normal", "priority", "emergency")

EventType = Literal[
    "received", "asset_ready", "asset_failed", "started", "finished", "interrupted", "skipped", "failed"
]
EVENT_TYPES: Final[tuple[str, ...]] = (
    "received", "asset_ready", "asset_failed", "started", "finished", "interrupted", "skipped", "failed",
)  # fmt: skip

CommandName = Literal["play_now", "stop", "set_volume", "test_tone", "resync"]
COMMANDS: Final[tuple[str, ...]] = ("play_now", "stop", "set_volume", "test_tone", "resync")

MAX_PLAN_ITEMS: Final = 2000
MAX_PLAN_WINDOWS: Final = 48
MAX_URL: Final = 2048  # an asset's signed URL


def _clock(text: str, what: str) -> str:
    """Check a local wall-clock time ``HH:MM`` or ``HH:MM:SS`` and return it as ``HH:MM:SS``."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ProtocolError("bad_field", f"{what}: expected HH:MM or HH:MM:SS, got {text!r}")
    hours, minutes, seconds = (int(p) for p in [*parts, "00"][:3])
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ProtocolError("bad_field", f"{what}: {text!r} is not a time of day")
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


@dataclass(frozen=True)
class WindowSpec:
    """A daily broadcast window in the device's local time zone."""

    name: str
    start: str  # HH:MM:SS local
    end: str  # HH:MM:SS local, after start

    @classmethod
    def from_json(cls, data: object) -> "WindowSpec":
        """Read and check a window object."""
        f = Fields(data, "window", allow_extra=True)
        name = f.text("name", max_len=64)
        start = _clock(f.text("start", max_len=8), "window.start")
        end = _clock(f.text("end", max_len=8), "window.end")
        f.done()
        if end <= start:
            raise ProtocolError("bad_field", f"window {name!r}: end {end} is not after start {start}")
        return cls(name=name, start=start, end=end)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this window."""
        return {"name": self.name, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Asset:
    """An audio file named by its content: fetched by HTTP and checked against sha256."""

    sha256: str
    bytes: int
    duration_ms: int
    url: str

    @classmethod
    def from_json(cls, data: object) -> "Asset":
        """Read and check an asset object."""
        f = Fields(data, "asset", allow_extra=True)
        sha = f.text("sha256", max_len=64)
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ProtocolError("bad_field", f"asset.sha256: expected 64 lowercase hex digits, got {sha!r}")
        asset = cls(
            sha256=sha,
            bytes=f.integer("bytes", minimum=1),
            duration_ms=f.integer("duration_ms", minimum=1),
            url=f.text("url", max_len=MAX_URL),
        )
        f.done()
        return asset

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this asset."""
        return {"sha256": self.sha256, "bytes": self.bytes, "duration_ms": self.duration_ms, "url": self.url}


@dataclass(frozen=True)
class PlanItem:
    """One thing to play: an asset, when it may play, and how."""

    item_id: str
    bulletin_id: int
    priority: Priority
    asset: Asset
    not_before: datetime
    not_after: datetime
    planned_start: datetime
    repeat: int = 1
    volume: int | None = None
    window: str | None = None

    @classmethod
    def from_json(cls, data: object) -> "PlanItem":
        """Read and check a plan item."""
        f = Fields(data, "item", allow_extra=True)
        item = cls(
            item_id=f.text("item_id", max_len=128),
            bulletin_id=f.integer("bulletin_id", minimum=1),
            priority=cast(Priority, f.choice("priority", PRIORITIES)),
            asset=Asset.from_json(f.obj("asset")),
            not_before=f.time("not_before"),
            not_after=f.time("not_after"),
            planned_start=f.time("planned_start"),
            repeat=f.integer("repeat", default=1, required=False, minimum=1),
            volume=_volume(f.raw("volume")),
            window=f.opt_str("window", max_len=64),
        )
        f.done()
        if item.not_after <= item.not_before:
            raise ProtocolError("bad_field", f"item {item.item_id}: not_after is not after not_before")
        return item

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this item."""
        return {
            "item_id": self.item_id,
            "bulletin_id": self.bulletin_id,
            "priority": self.priority,
            "asset": self.asset.to_json(),
            "not_before": format_utc(self.not_before),
            "not_after": format_utc(self.not_after),
            "planned_start": format_utc(self.planned_start),
            "repeat": self.repeat,
            "volume": self.volume,
            "window": self.window,
        }


def _volume(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ProtocolError("bad_field", f"volume: expected an integer 0–100 or null, got {value!r:.40}")
    return value


def _plan_volume(value: object) -> int:
    """A plan's volume: 0 (muted) is a volume; only an absent one takes the default."""
    volume = _volume(value)
    return 80 if volume is None else volume


@dataclass(frozen=True)
class PlanBody:
    """A device's full desired state: its windows and everything it should play (retained)."""

    version: int
    generated_at: datetime
    timezone: str
    windows: tuple[WindowSpec, ...]
    items: tuple[PlanItem, ...]
    volume: int = 80

    @classmethod
    def from_json(cls, data: object) -> "PlanBody":
        """Read and check a plan body."""
        f = Fields(data, "plan", allow_extra=True)
        body = cls(
            version=f.integer("version", minimum=1),
            generated_at=f.time("generated_at"),
            timezone=f.text("timezone", max_len=64),
            windows=tuple(WindowSpec.from_json(w) for w in f.array("windows", max_items=MAX_PLAN_WINDOWS)),
            items=tuple(PlanItem.from_json(i) for i in f.array("items", max_items=MAX_PLAN_ITEMS)),
            volume=_plan_volume(f.raw("volume")),
        )
        f.done()
        return body

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this plan."""
        return {
            "version": self.version,
            "generated_at": format_utc(self.generated_at),
            "timezone": self.timezone,
            "windows": [w.to_json() for w in self.windows],
            "items": [i.to_json() for i in self.items],
            "volume": self.volume,
        }


@dataclass(frozen=True)
class Command:
    """A signed one-off instruction: `play_now` (emergency), `stop`, `set_volume`, `test_tone`, `resync`."""

    command: CommandName
    item: PlanItem | None = None  # play_now
    repeat: int = 3  # play_now
    gap_s: int = 5  # play_now: pause between repeats
    volume: int | None = None  # set_volume
    duration_s: int = 5  # test_tone

    @classmethod
    def from_json(cls, data: object) -> "Command":
        """Read and check a command body."""
        f = Fields(data, "cmd", allow_extra=True)
        name = cast(CommandName, f.choice("command", COMMANDS))
        raw_item = f.raw("item")
        cmd = cls(
            command=name,
            item=None if raw_item is None else PlanItem.from_json(raw_item),
            repeat=f.integer("repeat", default=3, required=False, minimum=1),
            gap_s=f.integer("gap_s", default=5, required=False),
            volume=_volume(f.raw("volume")),
            duration_s=f.integer("duration_s", default=5, required=False, minimum=1),
        )
        f.done()
        if name == "play_now" and cmd.item is None:
            raise ProtocolError("bad_field", "cmd play_now needs an item")
        if name == "set_volume" and cmd.volume is None:
            raise ProtocolError("bad_field", "cmd set_volume needs a volume 0–100")
        if cmd.repeat > 20 or cmd.duration_s > 60:
            raise ProtocolError("bad_field", "cmd: repeat is at most 20 and duration_s at most 60")
        return cmd

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this command."""
        out: dict[str, Any] = {"command": self.command}
        if self.command == "play_now" and self.item is not None:
            out.update(item=self.item.to_json(), repeat=self.repeat, gap_s=self.gap_s)
        elif self.command == "set_volume":
            out["volume"] = self.volume
        elif self.command == "test_tone":
            out["duration_s"] = self.duration_s
        return out


@dataclass(frozen=True)
class Status:
    """Birth (`online`, published on connect) or will (`offline`, left with the broker)."""

    state: Literal["online", "offline"]
    bdseq: int
    boot_id: str | None = None
    version: str | None = None
    sent_at: datetime | None = None

    @classmethod
    def from_json(cls, data: object) -> "Status":
        """Read and check a status message."""
        f = Fields(data, "status", allow_extra=True)
        status = cls(
            state=cast(Literal["online", "offline"], f.choice("state", ("online", "offline"))),
            bdseq=f.integer("bdseq"),
            boot_id=f.opt_str("boot_id", max_len=64),
            version=f.opt_str("version", max_len=64),
            sent_at=f.opt_time("sent_at"),
        )
        f.done()
        return status

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this status."""
        out: dict[str, Any] = {"state": self.state, "bdseq": self.bdseq}
        if self.boot_id is not None:
            out["boot_id"] = self.boot_id
        if self.version is not None:
            out["version"] = self.version
        if self.sent_at is not None:
            out["sent_at"] = format_utc(self.sent_at)
        return out


@dataclass(frozen=True)
class Heartbeat:
    """Health metrics every 30 s (QoS 0): the controller's receive time decides liveness."""

    seq: int
    boot_id: str
    uptime_s: int
    sent_at: datetime
    clock_synced: bool
    plan_version: int
    assets_missing: int
    amp_on: bool
    agent_version: str
    cpu_temp_c: float | None = None
    load1: float | None = None
    mem_used_pct: float | None = None
    disk_free_mb: float | None = None
    cache_bytes: int = 0
    playing: str | None = None
    volume: int | None = None
    net: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: object) -> "Heartbeat":
        """Read and check a heartbeat."""
        f = Fields(data, "heartbeat", allow_extra=True)
        net = f.raw("net")
        hb = cls(
            seq=f.integer("seq"),
            boot_id=f.text("boot_id", max_len=64),
            uptime_s=f.integer("uptime_s"),
            sent_at=f.time("sent_at"),
            clock_synced=f.flag("clock_synced"),
            plan_version=f.integer("plan_version"),
            assets_missing=f.integer("assets_missing"),
            amp_on=f.flag("amp_on"),
            agent_version=f.text("agent_version", max_len=64),
            cpu_temp_c=f.opt_number("cpu_temp_c"),
            load1=f.opt_number("load1"),
            mem_used_pct=f.opt_number("mem_used_pct"),
            disk_free_mb=f.opt_number("disk_free_mb"),
            cache_bytes=f.integer("cache_bytes", default=0, required=False),
            playing=f.opt_str("playing", max_len=128),
            volume=_volume(f.raw("volume")),
            net=net if isinstance(net, Mapping) else {},
        )
        f.done()
        return hb

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this heartbeat."""
        return {
            "seq": self.seq,
            "boot_id": self.boot_id,
            "uptime_s": self.uptime_s,
            "sent_at": format_utc(self.sent_at),
            "clock_synced": self.clock_synced,
            "cpu_temp_c": self.cpu_temp_c,
            "load1": self.load1,
            "mem_used_pct": self.mem_used_pct,
            "disk_free_mb": self.disk_free_mb,
            "cache_bytes": self.cache_bytes,
            "plan_version": self.plan_version,
            "assets_missing": self.assets_missing,
            "playing": self.playing,
            "volume": self.volume,
            "amp_on": self.amp_on,
            "net": dict(self.net),
            "agent_version": self.agent_version,
        }


@dataclass(frozen=True)
class Event:
    """One playback or plan event from the agent's durable outbox; `seq` orders and de-duplicates."""

    seq: int
    type: EventType
    at: datetime
    boot_id: str
    item_id: str | None = None
    bulletin_id: int | None = None
    plan_version: int | None = None
    sha256: str | None = None
    reason: str | None = None
    detail: str | None = None

    @classmethod
    def from_json(cls, data: object) -> "Event":
        """Read and check an event."""
        f = Fields(data, "event", allow_extra=True)
        bulletin = f.raw("bulletin_id")
        plan_version = f.raw("plan_version")
        event = cls(
            seq=f.integer("seq", minimum=1),
            type=cast(EventType, f.choice("type", EVENT_TYPES)),
            at=f.time("at"),
            boot_id=f.text("boot_id", max_len=64),
            item_id=f.opt_str("item_id", max_len=128),
            bulletin_id=None if bulletin is None else f.integer("bulletin_id", minimum=1),
            plan_version=None if plan_version is None else f.integer("plan_version"),
            sha256=f.opt_str("sha256", max_len=64),
            reason=f.opt_str("reason", max_len=64),
            detail=f.opt_str("detail", max_len=1024),
        )
        f.done()
        return event

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this event (null fields left out)."""
        out: dict[str, Any] = {
            "seq": self.seq,
            "type": self.type,
            "at": format_utc(self.at),
            "boot_id": self.boot_id,
            "item_id": self.item_id,
            "bulletin_id": self.bulletin_id,
            "plan_version": self.plan_version,
            "sha256": self.sha256,
            "reason": self.reason,
            "detail": self.detail,
        }
        return {k: v for k, v in out.items() if v is not None}
