"""Signed listener URLs: what they look like, and every way a forged or stale one is refused."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from controller.streaming import ListenerRefused, check_listener, sign_listener_url

SECRET = b"s" * 32
NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def _requested(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_signed_url_names_mount_expiry_device_and_signature() -> None:
    url = sign_listener_url("http://10.0.0.2:8000/", "/relay-3", SECRET, LATER, "tule-c01")
    assert url.startswith(
        f"http://10.0.0.2:8000/relay-3?expires={int(LATER.timestamp())}&device=tule-c01&sig="
    )
    listener = check_listener(_requested(url), SECRET, NOW)
    assert (listener.mount, listener.device, listener.expires) == (
        "/relay-3",
        "tule-c01",
        int(LATER.timestamp()),
    )
    anyone = check_listener(
        _requested(sign_listener_url("http://h:1", "/relay-3", SECRET, LATER)), SECRET, NOW
    )
    assert anyone.device is None


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda r: r.split("?")[0], "unsigned"),
        (lambda r: r.replace("/relay-3", "/relay-4"), "bad_signature"),
        (lambda r: r.replace("tule-c01", "tule-c02"), "bad_signature"),
        (lambda r: r.replace("&device=tule-c01", ""), "bad_signature"),
        (lambda r: r.replace("expires=", "expires=1"), "bad_signature"),
        (lambda r: r.replace("/relay-3", "/../etc"), "bad_mount"),
        (lambda r: r.replace("expires=", "expires=x"), "unsigned"),
    ],
)
def test_tampered_urls_are_refused(tamper: object, reason: str) -> None:
    requested = _requested(sign_listener_url("http://h:1", "/relay-3", SECRET, LATER, "tule-c01"))
    with pytest.raises(ListenerRefused) as refused:
        check_listener(tamper(requested), SECRET, NOW)  # type: ignore[operator]
    assert refused.value.reason == reason


def test_expired_and_other_secret_are_refused() -> None:
    requested = _requested(sign_listener_url("http://h:1", "/relay-3", SECRET, LATER))
    with pytest.raises(ListenerRefused, match="expired") as refused:
        check_listener(requested, SECRET, LATER)
    assert refused.value.reason == "expired"
    with pytest.raises(ListenerRefused):
        check_listener(requested, b"t" * 32, NOW)


def test_signing_refuses_naive_times_and_odd_names() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_listener_url("http://h:1", "/relay-3", SECRET, datetime(2026, 12, 7))  # noqa: DTZ001
    with pytest.raises(ValueError, match="mount"):
        sign_listener_url("http://h:1", "relay 3", SECRET, LATER)
    with pytest.raises(ValueError, match="device"):
        sign_listener_url("http://h:1", "/relay-3", SECRET, LATER, "Tule C01")
