"""A CAP 1.2 alert as loaxa reads it: frozen values, checked at the edge (controller.cap.parse).

Owns the shapes and the one refusal type with its stable reason codes; must not parse, fetch or store.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

#: Why a document or a fetch was refused; these codes are counted per source and shown on its page.
REASONS: Final = (
    "malformed_xml",
    "forbidden_dtd",
    "schema_invalid",
    "unknown_sender",
    "bad_signature",
    "no_signature",
    "unknown_area",
    "unknown_reference",
    "expired",
    "fetch_failed",
    "fetch_timeout",
    "not_cap",
    "too_large",
    "bad_resource",
    "not_playable",
)


class CapRejected(Exception):
    """A CAP document (or a fetch of one) that loaxa refuses; nothing of it plays."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Resource:
    """An attached file (CAP `resource`): audio loaxa may play instead of speech."""

    description: str
    mime_type: str
    size: int | None
    uri: str | None
    deref: bytes | None  # the content, when the alert carries it inline (derefUri, base64)
    digest: str | None  # SHA-1 hex of the content (CAP 1.2 §3.2.3)


@dataclass(frozen=True)
class Area:
    """An affected area: its description, geocodes as (valueName, value) pairs and polygons.

    A polygon is a closed ring of (lat, lon) points in WGS 84, as CAP writes them.
    """

    description: str
    geocodes: tuple[tuple[str, str], ...]
    polygons: tuple[tuple[tuple[float, float], ...], ...]


@dataclass(frozen=True)
class Info:
    """One `info` block: the event in one language, with its urgency, severity and certainty."""

    language: str
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str
    description: str
    instruction: str
    expires: datetime | None
    resources: tuple[Resource, ...]
    areas: tuple[Area, ...]


@dataclass(frozen=True)
class Alert:
    """A CAP 1.2 alert message (its header and every info block)."""

    identifier: str
    sender: str
    sent: datetime
    status: str  # Actual | Exercise | System | Test | Draft
    msg_type: str  # Alert | Update | Cancel | Ack | Error
    scope: str
    references: tuple[tuple[str, str, datetime], ...]  # (sender, identifier, sent)
    infos: tuple[Info, ...]

    @property
    def expires(self) -> datetime | None:
        """The latest expiry of its info blocks (None: one of them never expires)."""
        moments = [info.expires for info in self.infos]
        if not moments or any(m is None for m in moments):
            return None
        return max(m for m in moments if m is not None)
