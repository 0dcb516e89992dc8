"""The plan a device is sent (DESIGN §5): windows, items and their audio, as frozen, checked dataclasses.

Owns the plan body's shape, its reader and writer; a reader refuses wrong types and missing fields and
ignores unknown ones, so a newer controller can add optional fields without breaking agents in the field.
Items of other programme sources are protocol.sources' shapes, carried here as SourcedItem.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal, cast

from protocol._fields import Fields
from protocol.errors import ProtocolError
from protocol.sources import StreamSource, UnknownSource, read_source
from protocol.timefmt import format_utc
from protocol.topics import AREA_CODE

Priority = Literal["normal", "priority", "emergency"]
PRIORITIES: Final[tuple[Priority, ...]] = ("normal", "priority", "emergency")
MAX_PLAN_ITEMS: Final = 2000
MAX_PLAN_WINDOWS: Final = 48
MAX_URL: Final = 2048  # an asset's signed URL
MAX_PLAN_AREAS: Final = 8  # a village, its commune, and room for levels above


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
            volume=volume_field(f.raw("volume")),
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


@dataclass(frozen=True)
class SourcedItem:
    """A plan item whose sound is not a file: a relayed station, a live session, or an unknown kind.

    It is placed like any item (window, priority, times); an agent that cannot play its source skips it
    with reason `unsupported_source` and goes on with the rest of the plan. A stream plays from its start
    until `planned_start + duration_ms` (or `not_after` without a duration), never later; `asset` is an
    optional filler, fetched ahead like a file item's audio and looped while no URL gives sound.
    """

    item_id: str
    bulletin_id: int
    priority: Priority
    source: StreamSource | UnknownSource
    not_before: datetime
    not_after: datetime
    planned_start: datetime
    window: str | None = None
    duration_ms: int | None = None
    asset: Asset | None = None
    volume: int | None = None

    @property
    def repeat(self) -> int:
        """A stream slot plays once."""
        return 1

    @property
    def ends_at(self) -> datetime:
        """When the slot ends: planned_start + duration, never after not_after."""
        if self.duration_ms is None:
            return self.not_after
        return min(self.not_after, self.planned_start + timedelta(milliseconds=self.duration_ms))

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this item."""
        data = {
            "item_id": self.item_id,
            "bulletin_id": self.bulletin_id,
            "priority": self.priority,
            "source": self.source.to_json(),
            "not_before": format_utc(self.not_before),
            "not_after": format_utc(self.not_after),
            "planned_start": format_utc(self.planned_start),
            "window": self.window,
            **({} if self.duration_ms is None else {"duration_ms": self.duration_ms}),
            **({} if self.asset is None else {"asset": self.asset.to_json()}),
            **({} if self.volume is None else {"volume": self.volume}),
        }
        if self.asset is not None:
            data["asset"] = self.asset.to_json()
        return data


def read_item(data: object) -> "PlanItem | SourcedItem":
    """Read a plan item of any source: `file` (the default) as a PlanItem, any other as a SourcedItem."""
    f = Fields(data, "item", allow_extra=True)
    source = read_source(f.raw("source"))
    if source is None:
        return PlanItem.from_json(data)
    filler = f.raw("asset")
    duration = f.raw("duration_ms")
    item = SourcedItem(
        item_id=f.text("item_id", max_len=128),
        bulletin_id=f.integer("bulletin_id", minimum=1),
        priority=cast(Priority, f.choice("priority", PRIORITIES)),
        source=source,
        not_before=f.time("not_before"),
        not_after=f.time("not_after"),
        planned_start=f.time("planned_start"),
        window=f.opt_str("window", max_len=64),
        duration_ms=None if duration is None else f.integer("duration_ms", minimum=1),
        asset=None if filler is None else Asset.from_json(filler),
        volume=volume_field(f.raw("volume")),
    )
    if item.not_after <= item.not_before:
        raise ProtocolError("bad_field", f"item {item.item_id}: not_after is not after not_before")
    return item


def volume_field(value: object) -> int | None:
    """A volume 0–100, or None when absent or null (booleans and other numbers are refused)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ProtocolError("bad_field", f"volume: expected an integer 0–100 or null, got {value!r:.40}")
    return value


def _plan_volume(value: object) -> int:
    """A plan's volume: 0 (muted) is a volume; only an absent one takes the default."""
    volume = volume_field(value)
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
    sourced: tuple[SourcedItem, ...] = ()
    # The area codes whose `loaxa/v1/area/{area}/cmd` topics the device listens to (its village, commune).
    areas: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> "PlanBody":
        """Read and check a plan body."""
        f = Fields(data, "plan", allow_extra=True)
        items = [read_item(i) for i in f.array("items", max_items=MAX_PLAN_ITEMS)]
        body = cls(
            version=f.integer("version", minimum=1),
            generated_at=f.time("generated_at"),
            timezone=f.text("timezone", max_len=64),
            windows=tuple(WindowSpec.from_json(w) for w in f.array("windows", max_items=MAX_PLAN_WINDOWS)),
            items=tuple(i for i in items if isinstance(i, PlanItem)),
            volume=_plan_volume(f.raw("volume")),
            sourced=tuple(i for i in items if isinstance(i, SourcedItem)),
            areas=_areas(f.array("areas", max_items=MAX_PLAN_AREAS)),
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
            "items": [*(i.to_json() for i in self.items), *(i.to_json() for i in self.sourced)],
            "volume": self.volume,
        } | ({"areas": list(self.areas)} if self.areas else {})


def _areas(values: list[Any]) -> tuple[str, ...]:
    """A plan's area codes: each a valid topic level (see protocol.topics.AREA_CODE)."""
    for value in values:
        if not isinstance(value, str) or not AREA_CODE.fullmatch(value):
            raise ProtocolError("bad_field", f"plan.areas: {value!r:.80} is not an area code")
    return tuple(values)


def check_plan_windows(timezone: str, windows: tuple[WindowSpec, ...]) -> None:
    """Raise ProtocolError unless a plan carrying this time zone and these windows passes an agent's reader.

    Whatever produces windows (the schedule loader) calls this, so a limit of the wire format is met where
    the data enters rather than found when every agent refuses every plan (issue 20, item 3).
    """
    PlanBody.from_json(
        {
            "version": 1,
            "generated_at": "2000-01-01T00:00:00Z",
            "timezone": timezone,
            "windows": [w.to_json() for w in windows],
            "items": [],
        }
    )
