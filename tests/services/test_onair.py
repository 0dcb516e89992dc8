"""Relay and live plays in the as-run log (source, URL, gaps) and dead air on the device (issue 13, 2–4),
stored from the agents' events on SQLite and PostgreSQL."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from controller.services import get_device, last_dead_air, list_plays, recent_dead_air, record_event
from protocol import Event, ProtocolError
from tests.services.conftest import T0, World

URL1, URL2 = "http://vov.example/vov1.mp3", "http://127.0.0.1:8000/relay/vov1"


def ev(seq: int, type_: str, at: datetime, **fields: Any) -> Event:
    return Event(seq=seq, type=type_, at=at, boot_id="boot-1", **fields)  # type: ignore[arg-type]


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_relay_play_keeps_its_source_url_and_gaps(session: Session, world: World) -> None:
    relay = {"item_id": "r-vov1", "source": "relay"}
    record_event(session, "tl-c01", ev(1, "started", s(0), url=URL1, **relay), s(0))
    gaps = [
        ev(
            2,
            "gap",
            s(33),
            url=URL1,
            start=s(30),
            end=s(33),
            reason="stalled",
            detail="resumed from x",
            **relay,
        ),
        ev(3, "gap", s(90), url=URL2, start=s(60), end=s(90), reason="ended", detail="slot ended", **relay),
    ]
    for gap in gaps:
        record_event(session, "tl-c01", gap, gap.at)
    record_event(session, "tl-c01", ev(4, "finished", s(90), **relay), s(90))
    record_event(session, "tl-c01", ev(5, "started", s(100), item_id="b7-file"), s(100))
    relay_play, file_play = list_plays(session, device_id="tl-c01")
    assert (relay_play.source, relay_play.url, relay_play.status) == ("relay", URL1, "finished")
    assert [(g.url, g.reason, g.started_at, g.ended_at) for g in relay_play.gaps] == [
        (URL1, "stalled", s(30), s(33)),
        (URL2, "ended", s(60), s(90)),
    ]
    assert (file_play.source, file_play.url, file_play.gaps) == ("file", None, ())


def test_a_live_session_is_logged_by_its_session(session: Session, world: World) -> None:
    live = {"session": "L-42", "source": "live"}
    record_event(session, "tl-c02", ev(1, "started", s(0), url=URL2, **live), s(0))
    record_event(session, "tl-c02", ev(2, "interrupted", s(5), reason="emergency", **live), s(5))
    record_event(session, "tl-c02", ev(3, "started", s(20), url=URL2, **live), s(20))
    gap = ev(4, "gap", s(31), url=URL2, start=s(25), end=s(31), reason="stalled", **live)
    record_event(session, "tl-c02", gap, s(31))
    record_event(session, "tl-c02", ev(5, "finished", s(40), reason="live_stop", **live), s(40))
    plays = list_plays(session, device_id="tl-c02")
    assert [(p.source, p.session, p.status, p.reason, len(p.gaps)) for p in plays] == [
        ("live", "L-42", "interrupted", "emergency", 0),
        ("live", "L-42", "finished", "live_stop", 1),
    ]


def test_dead_air_reported_twice_is_one_span_shown_on_the_device(session: Session, world: World) -> None:
    assert last_dead_air(session, "tl-c01") is None
    item = {"item_id": "b7-file", "start": s(0), "kind": "silent"}
    crossing = ev(1, "dead_air", s(11), end=s(11), detail="ongoing", **item)
    record_event(session, "tl-c01", crossing, s(11))
    assert recent_dead_air(session, s(5))["tl-c01"].ongoing is True
    record_event(session, "tl-c01", ev(2, "dead_air", s(25), end=s(25), **item), s(25))
    record_event(session, "tl-c01", crossing, s(26))  # a re-sent crossing (same seq) changes nothing
    last = last_dead_air(session, "tl-c01")
    assert last is not None and (last.duration_s, last.kind, last.ongoing) == (25.0, "silent", False)
    shown = get_device(session, "tl-c01", s(30)).dead_air_last
    assert shown == last
    live = ev(1, "dead_air", s(50), session="L-1", start=s(39), end=s(50), kind="broken")
    record_event(session, "tl-c02", live, s(50))
    recent = recent_dead_air(session, s(30))
    assert {d: (v.kind, v.started_at) for d, v in recent.items()} == {"tl-c02": ("broken", s(39))}
    assert set(recent_dead_air(session, s(0))) == {"tl-c01", "tl-c02"}


@pytest.mark.parametrize(
    "body",
    [
        {"type": "gap", "from": "2026-11-22T05:00:00Z"},  # no end
        {"type": "dead_air", "from": "2026-11-22T05:00:00Z", "to": "2026-11-22T05:00:20Z"},  # no kind
        {"type": "dead_air", "from": "2026-11-22T05:00:20Z", "to": "2026-11-22T05:00:00Z", "kind": "silent"},
        {"type": "dead_air", "from": "2026-11-22T05:00:00Z", "to": "2026-11-22T05:00:20Z", "kind": "loud"},
        {"type": "started", "source": "tape"},
    ],
)
def test_malformed_stream_events_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        Event.from_json({"seq": 1, "at": "2026-11-22T05:00:20Z", "boot_id": "b", **body})
