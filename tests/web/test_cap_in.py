"""CAP in through the API: sources, push, polls of a loopback server; every bad input refused and counted."""

import base64
import hashlib
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from controller import services
from controller.db import Bulletin
from controller.services.drills import DEFAULT_DRILL_VOLUME
from tests.cap.support import SENDER, cap_server, fixture, key_pair, sign
from tests.web.conftest import Runtime

ALL_TULE = sorted(
    ["ban-lim", "ban-phinh", "khau-than", "ban-co", "na-hang-tua-chu", "na-hang-tau", "giang-cai", "phinh-ho",
     "tang-ghenh"]
)  # fmt: skip


def add_source(client: FlaskClient, runtime: Runtime, **body: Any) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/cap/sources",
        json={"name": "Đài KTTV Yên Bái", "senders": [SENDER], **body},
        headers=runtime.auth("admin"),
    )
    assert answer.status_code == 201, answer.json
    found: dict[str, Any] = answer.json or {}
    return found


def push(client: FlaskClient, source: dict[str, Any], document: bytes, token: str | None = None) -> Any:
    return client.post(
        source["push_url"].replace("http://localhost", ""),
        data=document,
        content_type="application/cap+xml",
        headers={"Authorization": f"Bearer {token or source['push_token']}"},
    )


def bulletin_count(runtime: Runtime) -> int:
    with runtime.db.session() as db:
        return int(db.scalar(select(func.count()).select_from(Bulletin)) or 0)


def source_page(client: FlaskClient, runtime: Runtime, source_id: int) -> dict[str, Any]:
    answer = client.get(f"/api/v1/cap/sources/{source_id}", headers=runtime.auth("admin"))
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json or {}
    return found


def test_an_extreme_immediate_alert_goes_on_air_without_an_approver(
    client: FlaskClient, runtime: Runtime
) -> None:
    source = add_source(client, runtime)
    assert source["push_url"].endswith(f"/api/v1/cap/sources/{source['id']}/push")
    answer = push(client, source, fixture("alert.xml", runtime.now))
    assert answer.status_code == 202, answer.json
    assert answer.json["action"] == "emergency"
    bulletin_id = answer.json["bulletin_id"]
    with runtime.db.session() as db:
        view = services.get_bulletin(db, bulletin_id)
    assert (view.status, view.priority, view.author) == ("approved", "emergency", "cap-system.tule")
    assert sorted(view.targets["villages"]) == ALL_TULE
    assert view.title == "Cảnh báo lũ quét khẩn cấp"
    assert "di chuyển ngay lên chỗ cao" in view.text  # the instruction is read out
    assert view.expires_at is not None and view.expires_at > runtime.now
    assert runtime.changed == [bulletin_id]
    again = push(client, source, fixture("alert.xml", runtime.now))
    assert (again.status_code, again.json["status"]) == (202, "duplicate")
    assert bulletin_count(runtime) == 1
    page = source_page(client, runtime, source["id"])
    assert page["counters"]["accepted"] == 1 and page["counters"]["refused"] == 0
    assert page["recent_alerts"][0]["bulletin_id"] == bulletin_id


def test_cancel_and_update_follow_references(client: FlaskClient, runtime: Runtime) -> None:
    source = add_source(client, runtime)
    first = push(client, source, fixture("alert.xml", runtime.now)).json["bulletin_id"]
    update = push(client, source, fixture("update.xml", runtime.now))
    assert update.json["cancelled"] == [first] and update.json["action"] == "emergency"
    second = update.json["bulletin_id"]
    cancel = push(client, source, fixture("cancel.xml", runtime.now.replace(minute=5)))
    assert cancel.status_code == 202 and cancel.json["action"] == "cancel"
    # The cancel names the first alert, whose bulletin the update already stopped; the update's own
    # bulletin is still on air until a cancel names the update.
    assert cancel.json["cancelled"] == []
    with runtime.db.session() as db:
        assert services.get_bulletin(db, first).status == "cancelled"
        assert services.get_bulletin(db, second).status == "approved"


def test_a_cancel_stops_the_alert_it_names(client: FlaskClient, runtime: Runtime) -> None:
    source = add_source(client, runtime)
    first = push(client, source, fixture("alert.xml", runtime.now)).json["bulletin_id"]
    cancel = push(client, source, fixture("cancel.xml", runtime.now))
    assert cancel.json["cancelled"] == [first]
    with runtime.db.session() as db:
        assert services.get_bulletin(db, first).status == "cancelled"


def test_test_and_exercise_run_drills(client: FlaskClient, runtime: Runtime) -> None:
    source = add_source(client, runtime, policy={"drill_volume": 35})
    for name in ("test.xml", "exercise.xml"):
        answer = push(client, source, fixture(name, runtime.now))
        assert answer.json["action"] == "drill", answer.json
        report = client.get(f"/api/v1/drills/{answer.json['drill_id']}", headers=runtime.auth("viewer")).json
        assert report["origin"] == "cap" and report["acknowledged"] == []
        assert report["volume"] == 35  # the source's policy sets it
        assert len(report["missing"]) == 12  # no cluster has reported playing it yet
        with runtime.db.session() as db:
            bulletin = services.get_bulletin(db, answer.json["bulletin_id"])
        assert bulletin.text.startswith("Đây là phát thử hệ thống cảnh báo")


def test_a_drill_started_over_the_api_plays_at_its_volume(client: FlaskClient, runtime: Runtime) -> None:
    approver = runtime.auth("approver")
    started = client.post("/api/v1/drills", json={"targets": {"villages": ["ban-lim"]}}, headers=approver)
    assert started.status_code == 201, started.json
    assert started.json["volume"] == DEFAULT_DRILL_VOLUME == 60
    loud = client.post("/api/v1/drills", json={"volume": 100}, headers=approver)
    assert (loud.status_code, loud.json["volume"]) == (201, 100)
    before = bulletin_count(runtime)
    for volume in (-1, 101, "x", "60", True, None, 60.5):
        answer = client.post("/api/v1/drills", json={"volume": volume}, headers=approver)
        assert answer.status_code == 422, (volume, answer.json)
        error = answer.json["error"]
        assert error["code"] == "validation_failed" and list(error["fields"]) == ["volume"], error
        assert "volume: phải" in error["message"], error  # Vietnamese, saying what it must be
    assert bulletin_count(runtime) == before  # a refused drill writes nothing


def test_policy_sends_a_severe_alert_to_a_person(client: FlaskClient, runtime: Runtime) -> None:
    source = add_source(client, runtime)
    with runtime.db.session() as db:  # give Bản Lìm coordinates inside the fixture's polygon
        from controller.db import Area

        db.get(Area, "ban-lim").lat, db.get(Area, "ban-lim").lon = 21.8, 104.3  # type: ignore[union-attr]
    answer = push(client, source, fixture("polygon.xml", runtime.now))
    assert answer.json["action"] == "priority", answer.json
    with runtime.db.session() as db:
        view = services.get_bulletin(db, answer.json["bulletin_id"])
    assert (view.status, view.priority, view.targets) == ("pending", "priority", {"villages": ["ban-lim"]})
    approve = client.post(f"/api/v1/bulletins/{view.id}/approve", headers=runtime.auth("approver"))
    assert approve.json["status"] == "approved"


def test_inbox_policy(client: FlaskClient, runtime: Runtime) -> None:
    source = add_source(client, runtime, policy={"rules": [], "default": "inbox"})
    answer = push(client, source, fixture("alert.xml", runtime.now))
    with runtime.db.session() as db:
        view = services.get_bulletin(db, answer.json["bulletin_id"])
    assert (view.status, view.priority) == ("pending", "normal")
    # It lands among the commune's bulletins, where the commune's approver finds it.
    from tests.web.ui_support import sign_in

    sign_in(client, "approver")
    assert "Cảnh báo lũ quét khẩn cấp" in client.get("/approvals").text


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("malformed.xml", "malformed_xml"),
        ("bomb.xml", "forbidden_dtd"),
        ("xxe.xml", "forbidden_dtd"),
        ("unmatched_area.xml", "unknown_area"),
        ("update_unknown.xml", "unknown_reference"),
        ("expired.xml", "expired"),
    ],
)
def test_bad_documents_are_refused_counted_and_nothing_plays(
    client: FlaskClient, runtime: Runtime, name: str, reason: str
) -> None:
    source = add_source(client, runtime)
    answer = push(client, source, fixture(name, runtime.now))
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == reason
    assert bulletin_count(runtime) == 0 and runtime.changed == []
    page = source_page(client, runtime, source["id"])
    assert page["counters"][reason] == 1 and page["counters"]["refused"] == 1
    assert page["last_errors"][0]["reason"] == reason
    assert page["recent_alerts"] == []  # a refusal after the duplicate claim releases it


def test_unknown_sender_bad_signature_and_wrong_token(client: FlaskClient, runtime: Runtime) -> None:
    keys = key_pair(runtime.now)
    other = add_source(client, runtime, name="Nguồn khác", senders=["khac@example.vn"])
    refused = push(client, other, fixture("alert.xml", runtime.now))
    assert (refused.status_code, refused.json["error"]["code"]) == (422, "unknown_sender")
    signed_source = add_source(client, runtime, name="Nguồn ký số", certificate=keys.cert_pem)
    forged = sign(fixture("alert.xml", runtime.now), key_pair(runtime.now))
    assert push(client, signed_source, forged).json["error"]["code"] == "bad_signature"
    unsigned = push(client, signed_source, fixture("alert.xml", runtime.now))
    assert unsigned.json["error"]["code"] == "no_signature"
    assert push(client, other, fixture("alert.xml", runtime.now), token="wrong").status_code == 401
    assert bulletin_count(runtime) == 0
    genuine = push(client, signed_source, sign(fixture("alert.xml", runtime.now), keys))
    assert genuine.json["action"] == "emergency"
    page = source_page(client, runtime, signed_source["id"])
    assert (page["counters"]["bad_signature"], page["counters"]["no_signature"]) == (1, 1)
    assert page["signed"] is True


def test_polling_a_feed_on_loopback(client: FlaskClient, runtime: Runtime) -> None:
    with cap_server() as (base, served):
        served.add("/feed.atom", fixture("feed.atom", runtime.now), "application/atom+xml")
        served.add("/alert.xml", fixture("alert.xml", runtime.now))
        served.add("/test.xml", fixture("test.xml", runtime.now))
        served.add("/page", fixture("page.html", runtime.now), "text/html")
        served.add("/slow", fixture("alert.xml", runtime.now), delay=30)
        feed = add_source(client, runtime, url=f"{base}/feed.atom")
        answer = client.post(f"/api/v1/cap/sources/{feed['id']}/poll", headers=runtime.auth("admin"))
        assert [o["action"] for o in answer.json["items"]] == ["emergency", "drill"]
        again = client.post(f"/api/v1/cap/sources/{feed['id']}/poll", headers=runtime.auth("admin"))
        assert [o["status"] for o in again.json["items"]] == ["duplicate", "duplicate"]
        html = add_source(client, runtime, name="Trang web", url=f"{base}/page")
        client.post(f"/api/v1/cap/sources/{html['id']}/poll", headers=runtime.auth("admin"))
        assert source_page(client, runtime, html["id"])["counters"]["not_cap"] == 1
        client.application.extensions["loaxa"].cap_intake._timeout_s = 0.5
        slow = add_source(client, runtime, name="Chậm", url=f"{base}/slow")
        client.post(f"/api/v1/cap/sources/{slow['id']}/poll", headers=runtime.auth("admin"))
        page = source_page(client, runtime, slow["id"])
        assert page["counters"]["fetch_timeout"] == 1 and page["last_polled_at"] is not None
    assert bulletin_count(runtime) == 2


def test_source_input_is_checked(client: FlaskClient, runtime: Runtime) -> None:
    admin = runtime.auth("admin")
    bad = [
        {"name": "x", "senders": []},
        {"name": "x", "senders": ["a b"]},
        {"name": "x", "senders": [SENDER], "url": "ftp://x"},
        {"name": "x", "senders": [SENDER], "certificate": "not a certificate"},
        {"name": "x", "senders": [SENDER], "policy": {"rules": [{"severity": ["Huge"], "action": "inbox"}]}},
        {"name": "x", "senders": [SENDER], "policy": {"drill_volume": 101}},
        {"name": "x", "senders": [SENDER], "policy": {"drill_volume": "60"}},
    ]
    for body in bad:
        assert client.post("/api/v1/cap/sources", json=body, headers=admin).status_code == 422, body
    too_loud = {"name": "x", "senders": [SENDER], "policy": {"drill_volume": 101}}
    message = client.post("/api/v1/cap/sources", json=too_loud, headers=admin).json["error"]["message"]
    assert message.startswith("Chính sách (policy.drill_volume) không hợp lệ: phải từ 100 trở xuống"), message
    assert client.post("/api/v1/cap/sources", json={"name": "x", "senders": [SENDER]},
                       headers=runtime.auth("approver")).status_code == 403  # fmt: skip
    source = add_source(client, runtime)
    json_push = client.post(
        f"/api/v1/cap/sources/{source['id']}/push",
        json={},
        headers={"Authorization": f"Bearer {source['push_token']}"},
    )
    assert json_push.status_code == 415


def with_audio(document: bytes, audio: bytes, digest: str, language: bytes = b"blt") -> bytes:
    """The alert with an inline audio resource in the info block of `language`."""
    resource = (
        b"<resource><resourceDesc>Audio</resourceDesc><mimeType>audio/mpeg</mimeType>"
        + f"<size>{len(audio)}</size><derefUri>{base64.b64encode(audio).decode()}</derefUri>".encode()
        + f"<digest>{digest}</digest></resource>".encode()
    )
    head, _, tail = document.partition(b"<language>" + language + b"</language>")
    before, _, after = tail.partition(b"<area>")
    return head + b"<language>" + language + b"</language>" + before + resource + b"<area>" + after


def test_a_verified_audio_resource_becomes_the_version_in_its_language(
    client: FlaskClient, runtime: Runtime
) -> None:
    source = add_source(client, runtime)
    audio = b"ID3 recorded warning in Thai"
    good = with_audio(
        fixture("alert.xml", runtime.now), audio, hashlib.sha1(audio, usedforsecurity=False).hexdigest()
    )
    answer = push(client, source, good)
    assert answer.status_code == 202, answer.json
    with runtime.db.session() as db:
        view = services.get_bulletin(db, answer.json["bulletin_id"])
    assert [(a.language, a.kind) for a in view.audio] == [("thai", "recorded")]
    forged = with_audio(
        fixture("alert.xml", runtime.now).replace(b"KTTV-YB-2026-0001", b"KTTV-YB-2026-0777"), audio, "f" * 40
    )
    third = push(client, source, forged)
    assert third.status_code == 202
    with runtime.db.session() as db:
        assert (
            services.get_bulletin(db, third.json["bulletin_id"]).audio == ()
        )  # speech only, no forged audio


def test_two_copies_pushed_at_once_play_once(client: FlaskClient, runtime: Runtime) -> None:
    source = add_source(client, runtime)
    document = fixture("alert.xml", runtime.now)
    app = client.application
    answers: list[str] = []

    def send() -> None:
        answers.append(push(app.test_client(), source, document).json["status"])

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == ["accepted", "duplicate"]
    assert bulletin_count(runtime) == 1


def test_an_expired_update_cancels_nothing(client: FlaskClient, runtime: Runtime) -> None:
    source = add_source(client, runtime)
    first = push(client, source, fixture("alert.xml", runtime.now)).json["bulletin_id"]
    stale = fixture("update.xml", runtime.now, expires_in=-timedelta(minutes=1))
    answer = push(client, source, stale)
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "expired")
    with runtime.db.session() as db:
        assert services.get_bulletin(db, first).status == "approved"
