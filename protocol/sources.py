"""Programme sources of plan items (DESIGN §4): `file`, `relay`, `live`, and any kind a newer controller adds.

A plan item names where its sound comes from in `source` (`{"kind": ...}`). A `file` item carries its
audio as `asset` (sha256 + signed URL), and an absent `source` means `file`, so plans stay what agents in
the field already read. A `relay` or `live` item carries ordered stream URLs instead, tried in turn.
A kind this reader does not know is kept as `UnknownSource`, so an agent skips that one item with reason
`unsupported_source` instead of refusing the whole plan. Owns those shapes; must not play or fetch anything.
"""

from dataclasses import dataclass
from typing import Any, Final, Literal

from protocol._fields import Fields
from protocol.errors import ProtocolError

StreamKind = Literal["relay", "live"]
STREAM_KINDS: Final[tuple[StreamKind, ...]] = ("relay", "live")
MAX_STREAM_URLS: Final = 8
# The first agent version that reads `source`: loaxa-agent 0.1.0 (see reads_sources).
SOURCES_SINCE: Final = (0, 1, 0)
_SCHEMES: Final = ("http://", "https://")


@dataclass(frozen=True)
class StreamSource:
    """Sound from a stream: a relayed station (`station`) or a live session (`session`), URLs in order."""

    kind: StreamKind
    urls: tuple[str, ...]
    station: str | None = None
    session: str | None = None
    duration_s: int | None = None  # a relay slot's length: it plays from planned_start for this long

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this source."""
        data: dict[str, Any] = {"kind": self.kind, "urls": list(self.urls)}
        if self.station is not None:
            data["station"] = self.station
        if self.session is not None:
            data["session"] = self.session
        if self.duration_s is not None:
            data["duration_s"] = self.duration_s
        return data


@dataclass(frozen=True)
class UnknownSource:
    """A source kind this reader does not know (from a newer controller): the item is skipped."""

    kind: str

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this source (only its kind survives)."""
        return {"kind": self.kind}


def read_stream_urls(value: object, what: str) -> tuple[str, ...]:
    """Check a list of 1–8 http(s) stream URLs (a relay's or a live session's)."""
    if not (
        isinstance(value, list)
        and 1 <= len(value) <= MAX_STREAM_URLS
        and all(isinstance(u, str) and u.startswith(_SCHEMES) and len(u) <= 2048 for u in value)
    ):
        raise ProtocolError(
            "bad_field", f"{what}: expected 1–{MAX_STREAM_URLS} http(s) URLs, got {value!r:.80}"
        )
    return tuple(value)


def read_source(data: object) -> StreamSource | UnknownSource | None:
    """Read an item's `source`; None for a `file` item (its audio is the item's `asset`)."""
    if data is None:
        return None
    f = Fields(data, "source", allow_extra=True)
    kind = f.text("kind", max_len=32)
    if kind == "file":
        return None
    if kind not in STREAM_KINDS:
        return UnknownSource(kind)
    return StreamSource(
        kind="relay" if kind == "relay" else "live",
        urls=read_stream_urls(f.raw("urls"), "source.urls"),
        station=f.opt_str("station", max_len=64),
        session=f.opt_str("session", max_len=64),
        duration_s=None if f.raw("duration_s") is None else f.integer("duration_s", minimum=1),
    )


def reads_sources(agent_version: str | None) -> bool:
    """Whether an agent of this version reads `source` (and skips what it cannot play).

    An older reader would take a relay item's filler `asset` for the item's audio and play it as a
    bulletin, so the controller sends relay items only to agents from SOURCES_SINCE on. A device that
    has not reported a version yet is taken to read them: every released agent does.
    """
    if agent_version is None:
        return True
    numbers = []
    for part in agent_version.split("+")[0].split("-")[0].split("."):
        if not part.isdigit():
            return False
        numbers.append(int(part))
    return tuple(numbers) >= SOURCES_SINCE
