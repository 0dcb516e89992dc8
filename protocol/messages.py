"""Message shapes of DESIGN §5 besides the plan: commands, status, heartbeats and events.

Each is a frozen dataclass with a strict reader and a writer. Readers refuse wrong types and missing
fields; they ignore unknown fields, so a newer controller can add optional fields without breaking older
agents in the field (breaking changes bump the envelope `v`). The plan is protocol.plan.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, cast

from protocol._fields import Fields
from protocol.errors import ProtocolError
from protocol.plan import (
    Asset,
    PlanItem,
    volume_field,
)
from protocol.sources import read_stream_urls
from protocol.timefmt import format_utc, parse_utc
from protocol.urls import without_credentials

EventType = Literal[
    "received", "asset_ready", "asset_failed", "started", "finished", "interrupted", "skipped", "failed",
    "gap", "dead_air",
]  # fmt: skip
EVENT_TYPES: Final[tuple[str, ...]] = (
    "received", "asset_ready", "asset_failed", "started", "finished", "interrupted", "skipped", "failed",
    "gap", "dead_air",
)  # fmt: skip
DeadAirKind = Literal["silent", "broken"]
EventSource = Literal["relay", "live"]  # absent: a file
DEAD_AIR_KINDS: Final[tuple[DeadAirKind, ...]] = ("silent", "broken")

CommandName = Literal[
    "play_now", "stop", "set_volume", "test_tone", "resync", "update", "live_start", "live_stop", "fetch"
]  # fmt: skip
COMMANDS: Final[tuple[str, ...]] = (
    "play_now", "stop", "set_volume", "test_tone", "resync", "update", "live_start", "live_stop", "fetch",
)  # fmt: skip
# A Debian version of loaxa-agent (epoch, upstream, revision): the agent hands it to apt-get as `=VERSION`,
# so nothing that a shell or apt would read as an option or a second package gets through.
_DEB_VERSION: Final = re.compile(r"[0-9][0-9A-Za-z.+~:-]{0,63}")
_SHA256: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Command:
    """A signed one-off instruction: `play_now`, `stop`, `set_volume`, `test_tone`, `resync`, `update`, ...

    `update` installs loaxa-agent `version` (its .deb has `sha256`) from the apt source the agent already has.
    `live_start` plays live `session` from `urls` (in order) until `live_stop` for that session, the source
    ends, or `not_after`; with `start_at` (when the session went on air), every agent airs the source's
    audio from that instant on, one playout delay later, so that they start together.
    `fetch` (an announcement, sent on area topics) downloads `asset` ahead of the plan that will name it.
    """

    command: CommandName
    item: PlanItem | None = None  # play_now
    repeat: int = 3  # play_now
    gap_s: int = 5  # play_now: pause between repeats
    volume: int | None = None  # set_volume
    duration_s: int = 5  # test_tone
    events_from: int | None = None  # resync: publish again every held event with seq >= this
    version: str | None = None  # update: the Debian version of loaxa-agent to install
    sha256: str | None = None  # update: the SHA-256 of that version's .deb, checked before installing
    session: str | None = None  # live_start, live_stop: the live session's id
    urls: tuple[str, ...] = ()  # live_start: stream URLs, tried in order
    not_after: datetime | None = None  # live_start: the session ends at this time at the latest
    start_at: datetime | None = None  # live_start: the source's audio from this instant airs (optional)
    asset: Asset | None = None  # fetch

    @classmethod
    def from_json(cls, data: object) -> "Command":
        """Read and check a command body."""
        f = Fields(data, "cmd", allow_extra=True)
        name = cast(CommandName, f.choice("command", COMMANDS))
        raw_item = f.raw("item")
        raw_asset = f.raw("asset")
        cmd = cls(
            command=name,
            item=None if raw_item is None else PlanItem.from_json(raw_item),
            repeat=f.integer("repeat", default=3, required=False, minimum=1),
            gap_s=f.integer("gap_s", default=5, required=False),
            volume=volume_field(f.raw("volume")),
            duration_s=f.integer("duration_s", default=5, required=False, minimum=1),
            events_from=None if f.raw("events_from") is None else f.integer("events_from", minimum=1),
            version=f.opt_str("version", max_len=64),
            sha256=f.opt_str("sha256", max_len=64),
            session=f.opt_str("session", max_len=64),
            urls=read_stream_urls(f.raw("urls"), "cmd.urls") if name == "live_start" else (),
            not_after=f.opt_time("not_after"),
            start_at=f.opt_time("start_at"),
            asset=None if raw_asset is None else Asset.from_json(raw_asset),
        )
        f.done()
        if name in ("live_start", "live_stop") and not cmd.session:
            raise ProtocolError("bad_field", f"cmd {name} needs a session id")
        if name == "live_start" and cmd.not_after is None:
            raise ProtocolError(
                "bad_field", "cmd live_start needs not_after (when the session ends at the latest)"
            )
        if name == "play_now" and cmd.item is None:
            raise ProtocolError("bad_field", "cmd play_now needs an item")
        if name == "fetch" and cmd.asset is None:
            raise ProtocolError("bad_field", "cmd fetch needs an asset")
        if name == "set_volume" and cmd.volume is None:
            raise ProtocolError("bad_field", "cmd set_volume needs a volume 0–100")
        if name == "update" and (cmd.version is None or not _DEB_VERSION.fullmatch(cmd.version)):
            raise ProtocolError("bad_field", "cmd update needs a Debian version such as 0.4.0-1")
        if name == "update" and (cmd.sha256 is None or not _SHA256.fullmatch(cmd.sha256)):
            raise ProtocolError("bad_field", "cmd update needs the .deb's sha256 (64 lowercase hex digits)")
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
        elif self.command == "resync" and self.events_from is not None:
            out["events_from"] = self.events_from
        elif self.command == "update":
            out.update(version=self.version, sha256=self.sha256)
        elif self.command == "live_start" and self.not_after is not None:
            out.update(session=self.session, urls=list(self.urls), not_after=format_utc(self.not_after))
            if self.start_at is not None:
                out["start_at"] = format_utc(self.start_at)
            if self.volume is not None:
                out["volume"] = self.volume
        elif self.command == "live_stop":
            out["session"] = self.session
        elif self.command == "fetch" and self.asset is not None:
            out["asset"] = self.asset.to_json()
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
        plain = _plain_heartbeat(data)
        return _read_heartbeat(data) if plain is None else plain

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


def _read_heartbeat(data: object) -> Heartbeat:
    """A heartbeat read field by field: any shape the protocol allows, errors with their reasons."""
    f = Fields(data, "heartbeat", allow_extra=True)
    net = f.raw("net")
    hb = Heartbeat(
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
        volume=volume_field(f.raw("volume")),
        net=net if isinstance(net, Mapping) else {},
    )
    f.done()
    return hb


# The fields of a heartbeat that hold a number or null.
_HB_NUMBERS: Final = ("cpu_temp_c", "load1", "mem_used_pct", "disk_free_mb")


def _plain_heartbeat(data: object) -> Heartbeat | None:
    """A heartbeat of the usual shape read with plain lookups, or None to take the general reader.

    A controller reads thousands of heartbeats a second, and the general reader's call per field was a
    fifth of the time spent storing one (docs/benchmarks.md). This one accepts only what the general
    reader accepts, with the same values (tests/test_heartbeat_reader.py compares them), and returns None for
    anything else, so errors are reported by the general reader with its reasons.
    """
    if type(data) is not dict:
        return None
    get = data.get
    seq, uptime_s, plan_version = get("seq"), get("uptime_s"), get("plan_version")
    assets_missing, cache_bytes = get("assets_missing"), get("cache_bytes", 0)
    boot_id, agent_version, sent_at = get("boot_id"), get("agent_version"), get("sent_at")
    clock_synced, amp_on = get("clock_synced"), get("amp_on")
    playing, volume, net = get("playing"), get("volume"), get("net")
    if not (
        type(seq) is int and seq >= 0 and type(uptime_s) is int and uptime_s >= 0
        and type(plan_version) is int and plan_version >= 0
        and type(assets_missing) is int and assets_missing >= 0
        and type(cache_bytes) is int and cache_bytes >= 0
        and type(boot_id) is str and len(boot_id) <= 64
        and type(agent_version) is str and len(agent_version) <= 64
        and type(clock_synced) is bool and type(amp_on) is bool and type(sent_at) is str
        and (playing is None or (type(playing) is str and len(playing) <= 128))
        and (volume is None or (type(volume) is int and 0 <= volume <= 100))
        and (net is None or type(net) is dict)
    ):  # fmt: skip
        return None
    numbers: list[float | None] = []
    for key in _HB_NUMBERS:
        value = get(key)
        if value is None or type(value) is float:
            numbers.append(value)
        elif type(value) is int:
            numbers.append(float(value))
        else:
            return None
    try:
        sent = parse_utc(sent_at)
    except ProtocolError:
        return None
    cpu_temp_c, load1, mem_used_pct, disk_free_mb = numbers
    return Heartbeat(
        seq=seq, boot_id=boot_id, uptime_s=uptime_s, sent_at=sent, clock_synced=clock_synced,
        plan_version=plan_version, assets_missing=assets_missing, amp_on=amp_on,
        agent_version=agent_version, cpu_temp_c=cpu_temp_c, load1=load1, mem_used_pct=mem_used_pct,
        disk_free_mb=disk_free_mb, cache_bytes=cache_bytes, playing=playing, volume=volume, net=net or {},
    )  # fmt: skip


@dataclass(frozen=True)
class Event:
    """One playback or plan event from the agent's durable outbox; `seq` orders and de-duplicates.

    Streams add: `source` (`relay` or `live`; absent for a file), `session` (a live session's id, instead of
    `item_id`), `url` (the stream a `started` plays, the one a `gap` lost; without credentials:
    protocol.urls), and for `gap` and `dead_air` the span `[from, to)` (`start`, `end` here);
    `dead_air` also has `kind` (`silent`: audio below -50 dBFS, `broken`: no or undecodable audio).
    """

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
    session: str | None = None
    url: str | None = None
    start: datetime | None = None  # wire name "from"
    end: datetime | None = None  # wire name "to"
    kind: DeadAirKind | None = None
    source: EventSource | None = None

    def __post_init__(self) -> None:
        # The stream URL is stored and shown (as-run log): never with the credentials it was opened with,
        # whether the agent builds the event or the controller reads one from an older agent.
        if self.url is not None:
            object.__setattr__(self, "url", without_credentials(self.url))

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
            session=f.opt_str("session", max_len=64),
            url=f.opt_str("url", max_len=2048),
            start=f.opt_time("from"),
            end=f.opt_time("to"),
            kind=None if f.raw("kind") is None else cast(DeadAirKind, f.choice("kind", DEAD_AIR_KINDS)),
            source=None
            if f.raw("source") is None
            else cast(EventSource, f.choice("source", ("relay", "live"))),
        )
        f.done()
        if event.type in ("gap", "dead_air") and (event.start is None or event.end is None):
            raise ProtocolError("bad_field", f"event {event.type} needs 'from' and 'to'")
        if event.start is not None and event.end is not None and event.end < event.start:
            raise ProtocolError("bad_field", f"event {event.type}: 'to' is before 'from'")
        if event.type == "dead_air" and event.kind is None:
            raise ProtocolError("bad_field", "event dead_air needs kind silent or broken")
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
            "session": self.session,
            "url": self.url,
            "from": None if self.start is None else format_utc(self.start),
            "to": None if self.end is None else format_utc(self.end),
            "kind": self.kind,
            "source": self.source,
        }
        return {k: v for k, v in out.items() if v is not None}
