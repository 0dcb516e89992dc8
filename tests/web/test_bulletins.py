"""The bulletin workflow over HTTP: draft → pending → approved | rejected, cancel, and errors on the way."""

import io
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from controller import services
from tests.web.conftest import NOW, Runtime
from web import WebContext, create_app

DRAFT: dict[str, Any] = {
    "title": "Lịch tiêm chủng",
    "text": "Trạm y tế xã tiêm chủng cho trẻ em từ 7h30 đến 11h ngày 25/11.",
    "priority": "normal",
    "targets": {"villages": ["ban-lim", "ban-phinh"]},
}


def _create(client: FlaskClient, runtime: Runtime, author: str = "operator", **changes: Any) -> int:
    answer = client.post("/api/v1/bulletins", json={**DRAFT, **changes}, headers=runtime.auth(author))
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "draft"
    return int(answer.json["id"])


def _step(client: FlaskClient, runtime: Runtime, bulletin_id: int, step: str, user: str, **body: Any) -> Any:
    return client.post(
        f"/api/v1/bulletins/{bulletin_id}/{step}", json=body or None, headers=runtime.auth(user)
    )


def test_draft_submit_approve_calls_the_runtime_after_each_change(
    client: FlaskClient, runtime: Runtime
) -> None:
    bulletin_id = _create(client, runtime)
    submitted = _step(client, runtime, bulletin_id, "submit", "operator")
    assert submitted.status_code == 200
    assert submitted.json == {"id": bulletin_id, "status": "pending"}
    approved = _step(client, runtime, bulletin_id, "approve", "approver")
    assert approved.json == {"id": bulletin_id, "status": "approved"}
    assert runtime.changed == [bulletin_id, bulletin_id, bulletin_id]
    detail = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=runtime.auth("viewer")).json
    assert detail["status"] == "approved"
    assert detail["approver"] == "approver"
    assert detail["author"] == "operator"
    assert detail["targets"] == {"villages": ["ban-lim", "ban-phinh"]}
    assert detail["schedule"] == {"mode": "next_window"}
    assert detail["audio"] is None
    assert detail["created_at"] == "2026-11-22T04:00:00Z"
    listed = client.get("/api/v1/bulletins", headers=runtime.auth("viewer")).json["items"]
    assert [b["id"] for b in listed] == [bulletin_id]


def test_reject_needs_and_keeps_a_reason(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _create(client, runtime)
    _step(client, runtime, bulletin_id, "submit", "operator")
    missing = _step(client, runtime, bulletin_id, "reject", "approver")
    assert missing.status_code == 400  # no body at all: not JSON
    empty = client.post(f"/api/v1/bulletins/{bulletin_id}/reject", json={}, headers=runtime.auth("approver"))
    assert empty.status_code == 422
    assert "reason" in empty.json["error"]["message"]
    rejected = _step(client, runtime, bulletin_id, "reject", "approver", reason="Sai ngày tiêm, sửa lại")
    assert rejected.json == {"id": bulletin_id, "status": "rejected"}
    detail = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=runtime.auth("operator")).json
    assert detail["reject_reason"] == "Sai ngày tiêm, sửa lại"
    assert runtime.changed == [bulletin_id, bulletin_id, bulletin_id]


def test_cancel_an_approved_bulletin(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _create(client, runtime)
    _step(client, runtime, bulletin_id, "submit", "operator")
    _step(client, runtime, bulletin_id, "approve", "approver")
    cancelled = _step(client, runtime, bulletin_id, "cancel", "operator")
    assert cancelled.json == {"id": bulletin_id, "status": "cancelled"}
    assert runtime.changed[-1] == bulletin_id


def test_invalid_transition_is_409_and_changes_nothing(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _create(client, runtime)
    answer = _step(client, runtime, bulletin_id, "approve", "approver")
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "invalid_transition"
    assert "đang là bản nháp" in answer.json["error"]["message"]
    assert runtime.changed == [bulletin_id]


def test_author_cannot_approve_own_bulletin(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _create(client, runtime, author="admin")
    _step(client, runtime, bulletin_id, "submit", "admin")
    answer = _step(client, runtime, bulletin_id, "approve", "admin")
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "forbidden"
    assert "nhờ người duyệt khác" in answer.json["error"]["message"]


def test_operator_cannot_submit_or_cancel_someone_elses_bulletin(
    client: FlaskClient, runtime: Runtime
) -> None:
    bulletin_id = _create(client, runtime, author="operator")
    assert _step(client, runtime, bulletin_id, "submit", "operator2").status_code == 403
    assert _step(client, runtime, bulletin_id, "cancel", "operator2").status_code == 403


@pytest.mark.parametrize(
    ("user", "step", "status"),
    [
        ("viewer", "create", 403),
        ("approver", "create", 403),
        ("operator", "create", 201),
        ("admin", "create", 201),
        ("viewer", "approve", 403),
        ("operator", "approve", 403),
        ("approver2", "approve", 200),
        ("operator", "reject", 403),
        ("viewer", "cancel", 403),
        ("approver", "cancel", 403),
    ],
)
def test_role_matrix(client: FlaskClient, runtime: Runtime, user: str, step: str, status: int) -> None:
    if step == "create":
        answer = client.post("/api/v1/bulletins", json=DRAFT, headers=runtime.auth(user))
    else:
        bulletin_id = _create(client, runtime)
        _step(client, runtime, bulletin_id, "submit", "operator")
        body = {"reason": "không rõ"} if step == "reject" else {}
        answer = _step(client, runtime, bulletin_id, step, user, **body)
    assert answer.status_code == status, answer.json
    if status == 403:
        assert answer.json["error"]["code"] == "forbidden"
        assert user in answer.json["error"]["message"]


def test_bad_json_is_400(client: FlaskClient, runtime: Runtime) -> None:
    headers = {**runtime.auth("operator"), "Content-Type": "application/json"}
    answer = client.post("/api/v1/bulletins", data=b'{"title": "x",', headers=headers)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "bad_request"
    reject = client.post("/api/v1/bulletins/1/reject", data=b"{nope", headers=headers)
    assert reject.status_code == 400


def test_unknown_fields_are_422_and_named(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.post(
        "/api/v1/bulletins", json={**DRAFT, "colour": "red", "urgent": True}, headers=runtime.auth("operator")
    )
    assert answer.status_code == 422
    error = answer.json["error"]
    assert error["code"] == "validation_failed"
    assert "colour" in error["message"]
    assert "urgent" in error["message"]
    assert error["fields"]["colour"] == ["trường không có: hãy bỏ đi"]


def test_service_validation_names_the_field(client: FlaskClient, runtime: Runtime) -> None:
    bad_targets = client.post(
        "/api/v1/bulletins",
        json={**DRAFT, "targets": {"villages": ["atlantis"]}},
        headers=runtime.auth("operator"),
    )
    assert bad_targets.status_code == 422
    assert "atlantis" in bad_targets.json["error"]["message"]
    missing = client.post("/api/v1/bulletins", json={"text": "x"}, headers=runtime.auth("operator"))
    assert missing.status_code == 422
    assert "title" in missing.json["error"]["message"]
    assert "targets" in missing.json["error"]["message"]
    bad_priority = client.post(
        "/api/v1/bulletins", json={**DRAFT, "priority": "urgent"}, headers=runtime.auth("operator")
    )
    assert bad_priority.status_code == 422
    assert "priority" in bad_priority.json["error"]["fields"]


def test_wrong_content_type_is_415(client: FlaskClient, runtime: Runtime) -> None:
    headers = {**runtime.auth("operator"), "Content-Type": "text/plain"}
    answer = client.post("/api/v1/bulletins", data=b"hello", headers=headers)
    assert answer.status_code == 415
    assert "application/json" in answer.json["error"]["message"]


def test_too_large_json_is_413(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.post(
        "/api/v1/bulletins", json={**DRAFT, "text": "a" * (2 * 1024 * 1024)}, headers=runtime.auth("operator")
    )
    assert answer.status_code == 413
    assert answer.json["error"]["code"] == "payload_too_large"


def test_unknown_bulletin_is_404(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.get("/api/v1/bulletins/999", headers=runtime.auth("viewer"))
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"
    assert _step(client, runtime, 999, "submit", "operator").status_code == 404


def test_recorded_audio_upload_attaches_a_version(client: FlaskClient, runtime: Runtime) -> None:
    form = {
        "title": "Thông báo họp bản",
        "text": "Bản ghi tiếng Mông về họp bản.",
        "targets": '{"villages": ["giang-cai"]}',
        "language": "mong",
        "audio": (io.BytesIO(b"RIFF fake wav"), "hop-ban.wav"),
    }
    answer = client.post(
        "/api/v1/bulletins", data=form, content_type="multipart/form-data", headers=runtime.auth("operator")
    )
    assert answer.status_code == 201, answer.json
    detail = client.get(f"/api/v1/bulletins/{answer.json['id']}", headers=runtime.auth("operator")).json
    assert [(a["language"], a["kind"]) for a in detail["audios"]] == [("mong", "recorded")]
    assert runtime.changed == [answer.json["id"]]


def test_multipart_without_audio_or_language_is_422(client: FlaskClient, runtime: Runtime) -> None:
    form = {"title": "x", "text": "y", "targets": "{not json"}
    answer = client.post(
        "/api/v1/bulletins", data=form, content_type="multipart/form-data", headers=runtime.auth("operator")
    )
    assert answer.status_code == 422
    fields = answer.json["error"]["fields"]
    assert set(fields) == {"audio", "language", "targets"}


def test_bulletin_audio_download(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _create(client, runtime)
    assert (
        client.get(f"/api/v1/bulletins/{bulletin_id}/audio", headers=runtime.auth("viewer")).status_code
        == 404
    )
    sha256 = runtime.add_asset(b"ID3 speech" * 100)
    with runtime.db.session() as session:
        services.attach_audio(session, bulletin_id, NOW, language="vi", kind="tts", asset_sha256=sha256)
    answer = client.get(f"/api/v1/bulletins/{bulletin_id}/audio", headers=runtime.auth("viewer"))
    assert answer.status_code == 200
    assert answer.mimetype == "audio/mpeg"
    assert answer.data == b"ID3 speech" * 100
    detail = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=runtime.auth("viewer")).json
    assert detail["audio"]["sha256"] == sha256
    assert detail["audio"]["duration_ms"] == 1000


def _recording_form(size: int = 13) -> dict[str, Any]:
    return {
        "title": "Thông báo",
        "text": "Bản ghi tiếng Thái.",
        "targets": '{"all": true}',
        "language": "thai",
        "audio": FileStorage(io.BytesIO(b"w" * size), filename="thong-bao.ogg"),
    }


def test_upload_without_recording_support_is_501(context: WebContext, runtime: Runtime) -> None:
    client = create_app(replace(context, store_recording=None)).test_client()
    answer = client.post(
        "/api/v1/bulletins",
        data=_recording_form(),
        content_type="multipart/form-data",
        headers=runtime.auth("operator"),
    )
    assert answer.status_code == 501
    assert "dạng chữ" in answer.json["error"]["message"]
    assert runtime.changed == []


def test_large_recording_is_accepted_and_oversized_is_413(client: FlaskClient, runtime: Runtime) -> None:
    headers = runtime.auth("operator")
    # Encoded in memory: the test client would otherwise spool a large body to a file it never closes.
    boundary, body = encode_multipart(_recording_form(5 * 1024 * 1024))
    ok = client.post(
        "/api/v1/bulletins",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )
    assert ok.status_code == 201, ok.json
    # Raw bytes: the limit is checked on Content-Length before any parsing.
    too_big = client.post(
        "/api/v1/bulletins",
        data=b"0" * (26 * 1024 * 1024),
        content_type="multipart/form-data; boundary=x",
        headers=headers,
    )
    assert too_big.status_code == 413
    assert too_big.json["error"]["code"] == "payload_too_large"


def test_multipart_is_only_for_creating_bulletins(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.post(
        "/api/v1/tts/preview",
        data={"text": "x"},
        content_type="multipart/form-data",
        headers=runtime.auth("operator"),
    )
    assert answer.status_code == 415


def test_a_failing_runtime_hook_does_not_undo_the_change(context: WebContext, runtime: Runtime) -> None:
    def broken(bulletin_id: int) -> None:
        raise ConnectionError("broker away")

    client = create_app(replace(context, on_bulletin_changed=broken)).test_client()
    answer = client.post("/api/v1/bulletins", json=DRAFT, headers=runtime.auth("operator"))
    assert answer.status_code == 201
    detail = client.get(f"/api/v1/bulletins/{answer.json['id']}", headers=runtime.auth("operator"))
    assert detail.json["status"] == "draft"


def test_list_filters_by_status(client: FlaskClient, runtime: Runtime) -> None:
    first = _create(client, runtime)
    second = _create(client, runtime)
    _step(client, runtime, second, "submit", "operator")
    viewer = runtime.auth("viewer")
    pending = client.get("/api/v1/bulletins?status=pending", headers=viewer).json["items"]
    assert [b["id"] for b in pending] == [second]
    drafts = client.get("/api/v1/bulletins?status=draft", headers=viewer).json["items"]
    assert [b["id"] for b in drafts] == [first]
    typo = client.get("/api/v1/bulletins?status=aproved", headers=viewer)
    assert typo.status_code == 422
    assert "trạng thái 'aproved' không có" in typo.json["error"]["message"]


def test_two_person_rule_for_emergencies_over_rest(context: WebContext, runtime: Runtime) -> None:
    settings = context.settings.model_copy(update={"emergency_two_person": True})
    client = create_app(replace(context, settings=settings)).test_client()
    bulletin_id = _create(client, runtime, priority="emergency")
    assert _step(client, runtime, bulletin_id, "submit", "operator").status_code == 200
    first = _step(client, runtime, bulletin_id, "approve", "approver")
    assert (first.status_code, first.json["status"]) == (200, "pending")  # waits for a second approver
    again = _step(client, runtime, bulletin_id, "approve", "approver")
    assert again.status_code == 403 and "người duyệt thứ hai" in again.json["error"]["message"]
    second = _step(client, runtime, bulletin_id, "approve", "approver2")
    assert second.json["status"] == "approved"
