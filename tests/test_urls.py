"""Stream URLs in events and the as-run log carry no credentials (protocol.urls)."""

from datetime import UTC, datetime

import pytest

from protocol import Event
from protocol.urls import without_credentials

AT = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "http://10.0.0.1:8000/live-3?expires=1765000000&device=tule-c01&sig=ab12",
            "http://10.0.0.1:8000/live-3",
        ),
        ("https://u:secret@radio.yenbai.vn/fm?type=mp3&token=x", "https://radio.yenbai.vn/fm?type=mp3"),
        ("http://vov.example/vov1.mp3", "http://vov.example/vov1.mp3"),
        ("http://[::1/x?sig=1", "http://[::1/x"),  # not splittable: everything after the path goes
    ],
)
def test_credentials_are_removed_and_the_rest_kept(url: str, shown: str) -> None:
    assert without_credentials(url) == shown


def test_an_event_never_carries_a_listener_signature_either_way() -> None:
    url = "http://ctl:8000/relay-2?expires=1&device=tule-c01&sig=deadbeef"
    built = Event(seq=1, type="started", at=AT, boot_id="b", item_id="r1", source="relay", url=url)
    assert built.url == "http://ctl:8000/relay-2"
    wire = built.to_json() | {"url": url}  # an older agent sends it whole
    assert Event.from_json(wire).url == "http://ctl:8000/relay-2"
