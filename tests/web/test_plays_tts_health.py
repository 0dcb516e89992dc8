"""The as-run log (JSON and CSV), the TTS preview, the landing page and the served OpenAPI."""

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from controller import services
from protocol import Event
from protocol.messages import EventType
from tests.web.conftest import NOW, Runtime

STARTED_FINISHED: tuple[tuple[int, EventType], ...] = ((0, "started"), (1, "finished"))


def _played(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        operator = services.get_user(session, "operator")
        bulletin = services.create_bulletin(
            session, operator, NOW, title="Tin", text="Nội dung.", targets={"all": True}
        )
        start = NOW + timedelta(hours=1)
        for device_id, seq_base in (("tule-c01", 10), ("tule-c02", 20)):
            services.plan_delivery(  # as publishing the plan does: a device logs only what it was sent
                session,
                NOW,
                bulletin_id=bulletin.id,
                device_id=device_id,
                item_id=f"{bulletin.id}-vi",
                planned_start=start,
            )
            for offset, kind in STARTED_FINISHED:
                event = Event(
                    seq=seq_base + offset,
                    type=kind,
                    at=start + timedelta(minutes=offset),
                    boot_id="b1",
                    item_id=f"{bulletin.id}-vi",
                    bulletin_id=bulletin.id,
                )
                services.record_event(session, device_id, event, event.at)
    return bulletin.id


def test_plays_as_json_with_filters(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _played(runtime)
    answer = client.get("/api/v1/plays", headers=runtime.auth("viewer"))
    assert answer.status_code == 200
    assert answer.json["items"] == [
        {
            "bulletin_id": bulletin_id,
            "device": device,
            "started_at": "2026-11-22T05:00:00Z",
            "finished_at": "2026-11-22T05:01:00Z",
            "status": "finished",
            "source": {"kind": "file"},
            "url": None,
            "session": None,
            "gaps": [],
        }
        for device in ("tule-c01", "tule-c02")
    ]
    one = client.get(
        "/api/v1/plays?device=tule-c02&from=2026-11-22T00:00:00Z", headers=runtime.auth("viewer")
    )
    assert [item["device"] for item in one.json["items"]] == ["tule-c02"]
    later = client.get(
        "/api/v1/plays?from=2026-11-22T13:00:00%2B07:00&to=2026-11-23T00:00:00Z",
        headers=runtime.auth("viewer"),
    )
    assert later.json["items"] == []
    other = client.get(f"/api/v1/plays?bulletin={bulletin_id + 1}", headers=runtime.auth("viewer"))
    assert other.json["items"] == []


def test_a_relay_play_shows_its_url_and_gaps_and_the_device_its_dead_air(
    client: FlaskClient, runtime: Runtime
) -> None:
    url, at = "http://vov.example/vov1.mp3", NOW + timedelta(hours=2)
    relay = {"boot_id": "b1", "item_id": "r-vov1", "source": "relay"}
    events = [
        Event(seq=1, type="started", at=at, url=url, **relay),  # type: ignore[arg-type]
        Event(seq=2, type="gap", at=at + timedelta(seconds=9), url=url, start=at + timedelta(seconds=2),
              end=at + timedelta(seconds=9), reason="stalled", detail="slot ended; filler 5.0 s", **relay),  # type: ignore[arg-type]
        Event(seq=3, type="dead_air", at=at + timedelta(seconds=9), start=at + timedelta(seconds=2),
              end=at + timedelta(seconds=4), kind="broken", **relay),  # type: ignore[arg-type]
        Event(seq=4, type="finished", at=at + timedelta(seconds=9), **relay),  # type: ignore[arg-type]
    ]  # fmt: skip
    with runtime.db.session() as session:
        for event in events:
            services.record_event(session, "tule-c03", event, event.at)
    [entry] = client.get("/api/v1/plays?device=tule-c03", headers=runtime.auth("viewer")).json["items"]
    assert (entry["source"], entry["url"], entry["status"]) == (
        {"kind": "relay", "station": None},
        url,
        "finished",
    )
    assert entry["gaps"] == [
        {"started_at": "2026-11-22T06:00:02Z", "ended_at": "2026-11-22T06:00:09Z", "url": url,
         "reason": "stalled", "detail": "slot ended; filler 5.0 s"}
    ]  # fmt: skip
    device = client.get("/api/v1/devices/tule-c03", headers=runtime.auth("viewer")).json
    assert device["dead_air_last"] == {
        "started_at": "2026-11-22T06:00:02Z", "duration_s": 2.0, "kind": "broken", "ongoing": False,
        "item_id": "r-vov1", "session": None,
    }  # fmt: skip
    listed = client.get("/api/v1/devices", headers=runtime.auth("viewer")).json["items"]
    assert all(d["dead_air_last"] is None for d in listed)  # the list stays light: detail only


def test_plays_query_errors(client: FlaskClient, runtime: Runtime) -> None:
    naive = client.get("/api/v1/plays?from=2026-11-22T00:00:00", headers=runtime.auth("viewer"))
    assert naive.status_code == 422
    assert "from" in naive.json["error"]["message"]
    backwards = client.get(
        "/api/v1/plays?from=2026-11-23T00:00:00Z&to=2026-11-22T00:00:00Z", headers=runtime.auth("viewer")
    )
    assert backwards.status_code == 422
    unknown = client.get("/api/v1/plays?colour=red", headers=runtime.auth("viewer"))
    assert unknown.status_code == 422
    assert "colour" in unknown.json["error"]["message"]


def test_plays_as_csv(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _played(runtime)
    answer = client.get("/api/v1/plays", headers={**runtime.auth("viewer"), "Accept": "text/csv"})
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["bulletin_id", "device", "started_at", "finished_at", "status"]
    assert rows[1] == [
        str(bulletin_id),
        "tule-c01",
        "2026-11-22T05:00:00.000Z",
        "2026-11-22T05:01:00.000Z",
        "finished",
    ]
    assert len(rows) == 3


def test_tts_preview_gives_a_signed_audio_url(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.post(
        "/api/v1/tts/preview", json={"text": "Họp lúc 7h30"}, headers=runtime.auth("operator")
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["normalized_text"] == "họp lúc 7h30"
    assert answer.json["engine"] == "espeak-ng"
    assert runtime.previews == ["Họp lúc 7h30"]
    url = urlsplit(answer.json["audio_url"])
    assert url.path == f"/api/v1/assets/{answer.json['sha256']}"
    assert set(parse_qs(url.query)) == {"expires", "sig"}
    audio = client.get(f"{url.path}?{url.query}")
    assert audio.status_code == 200
    assert audio.data == "preview Họp lúc 7h30".encode()


def test_tts_preview_refuses_viewers_and_empty_text(client: FlaskClient, runtime: Runtime) -> None:
    assert (
        client.post("/api/v1/tts/preview", json={"text": "x"}, headers=runtime.auth("viewer")).status_code
        == 403
    )
    empty = client.post("/api/v1/tts/preview", json={"text": ""}, headers=runtime.auth("operator"))
    assert empty.status_code == 422
    assert runtime.previews == []


def test_landing_page_is_vietnamese_and_links_the_docs(client: FlaskClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert 'name="viewport"' in page
    assert "Hệ thống truyền thanh thông minh" in page
    assert 'href="/api/v1/docs"' in page


def test_openapi_lists_the_contract_paths(client: FlaskClient) -> None:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    paths = answer.json["paths"]
    expected = {
        "/api/v1/auth/token": {"post"},
        "/api/v1/health": {"get"},
        "/api/v1/bulletins": {"get", "post"},
        "/api/v1/bulletins/{bulletin_id}": {"get"},
        "/api/v1/bulletins/{bulletin_id}/submit": {"post"},
        "/api/v1/bulletins/{bulletin_id}/approve": {"post"},
        "/api/v1/bulletins/{bulletin_id}/reject": {"post"},
        "/api/v1/bulletins/{bulletin_id}/cancel": {"post"},
        "/api/v1/bulletins/{bulletin_id}/audio": {"get"},
        "/api/v1/devices": {"get", "post"},
        "/api/v1/devices/{device_id}": {"get"},
        "/api/v1/devices/{device_id}/cmd": {"post"},
        "/api/v1/tts/preview": {"post"},
        "/api/v1/plays": {"get"},
        "/api/v1/assets/{sha256}": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    create = paths["/api/v1/bulletins"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(create)
    assert answer.json["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    assert "security" not in paths["/api/v1/health"]["get"]
    assert "security" not in paths["/api/v1/assets/{sha256}"]["get"]
    assert paths["/api/v1/devices"]["get"]["security"] == [{"BearerAuth": []}]


def test_unknown_path_is_a_json_404(client: FlaskClient) -> None:
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"
