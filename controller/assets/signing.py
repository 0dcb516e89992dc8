"""Signed, expiring download URLs for assets (HMAC-SHA256 over the sha256 and the expiry time).

Owns the URL format `{base}/api/v1/assets/{sha256}?expires={unix}&sig={hex}` and its check; it must not
read files or know who the caller is. Time is always passed in (`now`, `expires_at`), never read here.
"""

import hashlib
import hmac
from datetime import datetime
from urllib.parse import urlencode

ASSET_PATH = "/api/v1/assets/"


class AssetUrlError(ValueError):
    """The URL's signature or expiry is not valid: the agent should ask for a fresh plan."""


class AssetUrlExpired(AssetUrlError):
    """The URL was valid but its time is up."""


def _signature(sha256: str, expires: int, secret: bytes) -> str:
    return hmac.new(secret, f"{sha256}:{expires}".encode(), hashlib.sha256).hexdigest()


def _unix(moment: datetime, name: str) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {moment.isoformat()}")
    return int(moment.timestamp())


def sign_asset_url(base_url: str, sha256: str, secret: bytes, expires_at: datetime) -> str:
    """A URL under `base_url` that lets its holder download the asset until `expires_at`."""
    expires = _unix(expires_at, "expires_at")
    query = urlencode({"expires": expires, "sig": _signature(sha256, expires, secret)})
    return f"{base_url.rstrip('/')}{ASSET_PATH}{sha256}?{query}"


def verify_asset_signature(sha256: str, expires: str | int, sig: str, secret: bytes, now: datetime) -> None:
    """Return quietly for a valid, unexpired URL; raise AssetUrlError (or AssetUrlExpired) otherwise."""
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        raise AssetUrlError(f"asset URL has a malformed expiry {expires!r}") from None
    if not hmac.compare_digest(_signature(sha256, expires_at, secret), str(sig).lower()):
        raise AssetUrlError(f"asset URL signature for {sha256[:12]}… does not match")
    if _unix(now, "now") >= expires_at:
        raise AssetUrlExpired(f"asset URL for {sha256[:12]}… expired at unix time {expires_at}")
