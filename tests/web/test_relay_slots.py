"""Relay slots over REST: a bulletin with a relay `source` instead of text, inside a window, without
overlapping another slot on the same clusters; every refusal a stable code and a Vietnamese message.
Windows are Tú Lệ's 05:00–07:30 and 17:00–19:00."""

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from controller import services
from protocol import Event
from protocol.messages import EventType
from tests.web.conftest import NOW, Runtime

DAILY = {"mode": "daily", "days": 7, "start_time": "06:00"}


@pytest.fixture
def station(client: FlaskClient, runtime: Runtime) -> int:
    answer = client.post(
        "/api/v1/stations",
        json={"name": "VOV1", "urls": ["http://vov.example:8000/vov1"]},
        headers=runtime.auth("admin"),
    )
    assert answer.status_code == 201
    return int(answer.json["id"])


def _slot(
    client: FlaskClient, runtime: Runtime, source: Any, schedule: Any = DAILY, **extra: Any
) -> tuple[int, dict[str, Any]]:
    body = {
        "title": "VOV1 thời sự",
        "targets": {"all": True},
        "source": source,
        "schedule": schedule,
        **extra,
    }
    answer = client.post("/api/v1/bulletins", json=body, headers=runtime.auth("operator"))
    return answer.status_code, answer.json or {}


def test_a_relay_slot_is_a_bulletin_with_a_spoken_filler(
    client: FlaskClient, runtime: Runtime, station: int
) -> None:
    source = {"kind": "relay", "station": station, "duration_s": 1800}
    status, body = _slot(client, runtime, source)
    assert status == 201 and body["status"] == "draft"
    shown = client.get(f"/api/v1/bulletins/{body['id']}", headers=runtime.auth("approver")).json
    assert shown["source"] == source
    assert shown["text"] == "Đài đang nối lại sóng VOV1, xin quý vị chờ trong giây lát."
    assert runtime.changed == [body["id"]]  # announced: the runtime renders the filler and plans


@pytest.mark.parametrize(
    ("schedule", "duration"),
    [
        ({"mode": "daily", "days": 3, "start_time": "07:20"}, 1200),  # 07:20–07:40, the window ends 07:30
        ({"mode": "daily", "days": 3, "start_time": "06:00", "windows": ["evening"]}, 600),  # not in evening
        ({"mode": "daily", "days": 3}, 600),  # no start time
    ],
)
def test_a_slot_outside_the_windows_is_refused(
    client: FlaskClient, runtime: Runtime, station: int, schedule: dict[str, Any], duration: int
) -> None:
    status, body = _slot(
        client, runtime, {"kind": "relay", "station": station, "duration_s": duration}, schedule
    )
    assert status == 422 and body["error"]["code"] == "relay_outside_window"
    message = body["error"]["message"]
    assert "khung phát" in message or "giờ bắt đầu" in message


def test_overlapping_slots_on_common_clusters_and_days_are_refused(
    client: FlaskClient, runtime: Runtime, station: int
) -> None:
    source = {"kind": "relay", "station": station, "duration_s": 1800}
    assert _slot(client, runtime, source)[0] == 201  # 06:00–06:30 daily, everywhere
    later = {**DAILY, "start_time": "06:15"}
    status, body = _slot(client, runtime, source, later)
    assert status == 409 and body["error"]["code"] == "relay_overlap"
    assert "trùng giờ" in body["error"]["message"] and "06:00–06:30" in body["error"]["message"]
    assert _slot(client, runtime, source, {**DAILY, "start_time": "06:30"})[0] == 201  # back to back is fine
    elsewhere = {"mode": "dates", "dates": ["2027-01-05"], "start_time": "06:15"}
    assert _slot(client, runtime, source, elsewhere)[0] == 201  # another day
    listed = client.get("/api/v1/bulletins", headers=runtime.auth("admin")).json["items"]
    assert len([b for b in listed if b["source"]]) == 3  # the refused one left nothing behind


def test_slots_on_different_clusters_may_share_a_time(
    client: FlaskClient, runtime: Runtime, station: int
) -> None:
    source = {"kind": "relay", "station": station, "duration_s": 1800}
    assert _slot(client, runtime, source, targets={"villages": ["ban-lim"]})[0] == 201
    assert _slot(client, runtime, source, targets={"villages": ["ban-co"]})[0] == 201
    status, body = _slot(client, runtime, source, targets={"villages": ["ban-co", "giang-cai"]})
    assert status == 409 and body["error"]["code"] == "relay_overlap"


@pytest.mark.parametrize(
    ("source", "extra", "words"),
    [
        ({"kind": "relay", "station": 999, "duration_s": 600}, {}, "không có đài số 999"),
        ({"kind": "relay", "station": "vov1", "duration_s": 600}, {}, "source.station"),
        ({"kind": "relay", "station": 1, "duration_s": 5}, {}, "source.duration_s"),
        ({"kind": "relay", "station": 1, "duration_s": 99999}, {}, "source.duration_s"),
        ({"kind": "live", "station": 1, "duration_s": 600}, {}, "source phải có dạng"),
        ({"kind": "relay", "station": 1}, {}, "source phải có dạng"),
        ({"kind": "relay", "station": 1, "duration_s": 600}, {"text": "Xin chào"}, "bỏ trường text"),
        ({"kind": "relay", "station": 1, "duration_s": 600}, {"priority": "emergency"}, "khẩn cấp"),
    ],
)
def test_bad_relay_sources_are_refused(
    client: FlaskClient,
    runtime: Runtime,
    station: int,
    source: dict[str, Any],
    extra: dict[str, Any],
    *,
    words: str,
) -> None:
    assert station == 1
    status, body = _slot(client, runtime, source, **extra)
    assert status == 422 and body["error"]["code"] == "bad_source"
    assert words in body["error"]["message"]


def test_a_retired_station_takes_no_new_slots_and_edits_keep_the_rules(
    client: FlaskClient, runtime: Runtime, station: int
) -> None:
    source = {"kind": "relay", "station": station, "duration_s": 1800}
    status, first = _slot(client, runtime, source)
    _, second = _slot(client, runtime, source, {**DAILY, "start_time": "06:40"})
    edit = client.patch(
        f"/api/v1/bulletins/{second['id']}", json={"schedule": {**DAILY, "start_time": "06:10"}},
        headers=runtime.auth("operator"),
    )  # fmt: skip
    assert edit.status_code == 409 and edit.json["error"]["code"] == "relay_overlap"
    edit = client.patch(
        f"/api/v1/bulletins/{first['id']}", json={"text": "Nội dung khác"}, headers=runtime.auth("operator")
    )
    assert edit.status_code == 422 and edit.json["error"]["code"] == "bad_source"
    client.post(f"/api/v1/stations/{station}/retire", headers=runtime.auth("admin"))
    status, body = _slot(client, runtime, {**source}, {**DAILY, "start_time": "17:00"})
    assert status == 422 and "không có đài số" in body["error"]["message"]


def test_plays_of_a_relay_slot_say_which_station_they_aired(
    client: FlaskClient, runtime: Runtime, station: int
) -> None:
    status, body = _slot(client, runtime, {"kind": "relay", "station": station, "duration_s": 600})
    assert status == 201
    start = NOW + timedelta(hours=1)
    with runtime.db.session() as session:
        services.plan_delivery(  # as publishing the plan does
            session,
            NOW,
            bulletin_id=body["id"],
            device_id="tule-c01",
            item_id="relay-item",
            planned_start=start,
        )
        steps: tuple[tuple[int, EventType], ...] = ((1, "started"), (2, "finished"))
        for seq, kind in steps:
            event = Event(
                seq=seq, type=kind, at=start + timedelta(minutes=seq), boot_id="b1", item_id="relay-item",
                bulletin_id=body["id"],
            )  # fmt: skip
            services.record_event(session, "tule-c01", event, event.at)
    (play,) = client.get(f"/api/v1/plays?bulletin={body['id']}", headers=runtime.auth("viewer")).json["items"]
    assert play["source"] == {"kind": "relay", "station": station} and play["status"] == "finished"
