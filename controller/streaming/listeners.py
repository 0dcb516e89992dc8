"""Signed, expiring listener URLs for the streaming server's mounts, and their check (DESIGN §13).

An agent listens to a mount (a station's relay, later a live session) with a URL the controller signed:
`{base}{mount}?expires={unix}&device={id}&sig={hex}`, HMAC-SHA256 over `listen:{mount}:{device}:{expires}`
with the controller's URL secret (the one that signs asset URLs; the `listen:` prefix keeps the two kinds
of signature apart). `device` is optional: a URL signed without it works for any listener until it
expires. Icecast hands the requested mount with its query to the controller (URL authentication,
`listener_add`), which answers with `check_listener`. Owns the URL format and the check; time is always
passed in, never read here, and nothing here knows Icecast or HTTP frameworks.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import parse_qs, urlencode, urlsplit

_MOUNT: Final = re.compile(r"/[A-Za-z0-9._-]{1,64}")
_DEVICE: Final = re.compile(r"[a-z0-9-]{1,64}")


class ListenerRefused(ValueError):
    """The listener's URL is not valid for this mount: unsigned, forged, for another mount, or expired."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Listener:
    """A listener whose URL checked out: the mount, the device it was signed for (if any), until when."""

    mount: str
    device: str | None
    expires: int


def check_mount(mount: str) -> str:
    """A mount name as loaxa writes them (`/relay-3`): a slash and 1–64 of letters, digits, `.`, `_`, `-`."""
    if not _MOUNT.fullmatch(mount):
        raise ValueError(f"mount {mount!r}: expected '/' and 1–64 of A-Z, a-z, 0-9, '.', '_', '-'")
    return mount


def _signature(mount: str, device: str, expires: int, secret: bytes) -> str:
    return hmac.new(secret, f"listen:{mount}:{device}:{expires}".encode(), hashlib.sha256).hexdigest()


def sign_listener_url(
    base_url: str, mount: str, secret: bytes, expires_at: datetime, device: str | None = None
) -> str:
    """A URL that lets its holder (the `device`, when given) listen to `mount` until `expires_at`."""
    if expires_at.utcoffset() is None:
        raise ValueError(f"expires_at must be timezone-aware (UTC), got naive {expires_at.isoformat()}")
    if device is not None and not _DEVICE.fullmatch(device):
        raise ValueError(f"device {device!r}: expected 1–64 of a-z, 0-9 and '-'")
    expires = int(expires_at.timestamp())
    query = {"expires": expires, **({"device": device} if device else {})}
    query["sig"] = _signature(check_mount(mount), device or "", expires, secret)
    return f"{base_url.rstrip('/')}{mount}?{urlencode(query)}"


def check_listener(requested: str, secret: bytes, now: datetime) -> Listener:
    """Check a requested mount with its query (`/relay-3?expires=…&sig=…`); raise ListenerRefused if bad."""
    parts = urlsplit(requested)
    if not _MOUNT.fullmatch(parts.path):
        raise ListenerRefused("bad_mount", f"mount {parts.path[:80]!r} is not one loaxa signs for")
    query = parse_qs(parts.query, max_num_fields=8)
    expires_text = query.get("expires", [""])[-1]
    sig = query.get("sig", [""])[-1]
    device = query.get("device", [""])[-1]
    if not expires_text.isdigit() or not sig:
        raise ListenerRefused("unsigned", f"listener of {parts.path} has no signed token (expires, sig)")
    expires = int(expires_text)
    expected = _signature(parts.path, device, expires, secret)
    if not hmac.compare_digest(expected, sig.lower()):
        raise ListenerRefused("bad_signature", f"listener token for {parts.path} does not match")
    if int(now.timestamp()) >= expires:
        raise ListenerRefused("expired", f"listener token for {parts.path} expired at unix time {expires}")
    return Listener(mount=parts.path, device=device or None, expires=expires)
