"""Signed, expiring asset URLs."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from controller.assets import AssetUrlError, AssetUrlExpired, sign_asset_url, verify_asset_signature

SECRET = b"0123456789abcdef0123456789abcdef"
SHA = "ab" * 32
NOW = datetime(2026, 11, 22, 11, 40, tzinfo=UTC)


def signed(expires_at: datetime = NOW + timedelta(days=7)) -> tuple[str, str, str]:
    url = urlsplit(sign_asset_url("http://10.0.0.2:8080/", SHA, SECRET, expires_at))
    query = parse_qs(url.query)
    assert url.path == f"/api/v1/assets/{SHA}"
    assert url.netloc == "10.0.0.2:8080"
    return url.path.rsplit("/", 1)[1], query["expires"][0], query["sig"][0]


def test_valid_url_is_accepted() -> None:
    sha, expires, sig = signed()
    verify_asset_signature(sha, expires, sig, SECRET, NOW)
    verify_asset_signature(sha, int(expires), sig.upper(), SECRET, NOW + timedelta(days=6))


def test_expired_url_is_refused() -> None:
    sha, expires, sig = signed(NOW + timedelta(seconds=60))
    with pytest.raises(AssetUrlExpired, match="expired"):
        verify_asset_signature(sha, expires, sig, SECRET, NOW + timedelta(seconds=60))


@pytest.mark.parametrize("part", ["sha", "expires", "sig", "secret"])
def test_tampered_url_is_refused(part: str) -> None:
    sha, expires, sig = signed()
    secret = SECRET
    if part == "sha":
        sha = "cd" * 32
    elif part == "expires":
        expires = str(int(expires) + 86400)
    elif part == "sig":
        sig = ("0" if sig[0] != "0" else "1") + sig[1:]
    else:
        secret = b"another secret"
    with pytest.raises(AssetUrlError, match="does not match") as caught:
        verify_asset_signature(sha, expires, sig, secret, NOW)
    assert not isinstance(caught.value, AssetUrlExpired)


def test_malformed_expiry_and_naive_times_are_errors() -> None:
    sha, _, sig = signed()
    with pytest.raises(AssetUrlError, match="malformed expiry"):
        verify_asset_signature(sha, "soon", sig, SECRET, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_asset_url("http://x", SHA, SECRET, datetime(2026, 11, 29))  # noqa: DTZ001 - the point of the test
