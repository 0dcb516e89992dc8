"""Compose and preview, the approval queue, no self-approval, rejection, audit trail, emergency."""

import io

from flask.testing import FlaskClient

from controller import services
from tests.web.conftest import Runtime
from tests.web.ui_support import csrf, post, sign_in

TEXT = "UBND xã thông báo: lịch tiêm phòng cho gia súc vào 7h30 ngày 25/11."


def _compose(client: FlaskClient, **extra: object) -> int:
    fields = {"title": "Tiêm phòng", "text": TEXT, "priority": "normal", "target_mode": "all", **extra}
    answer = post(client, "/compose", fields)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def test_compose_page_lists_targets_with_counts_and_the_window_picture(client: FlaskClient) -> None:
    sign_in(client, "operator")
    page = client.get("/compose").get_data(as_text=True)
    assert "Bản Lìm" in page and "(2 cụm loa)" in page and "Tất cả thôn bản (12 cụm loa)" in page
    assert 'class="timeline"' in page and "Buổi chiều 22/11" in page and "dự kiến phát lúc" in page
    for field in ('for="title"', 'for="text"', 'for="audio"', 'for="language"'):
        assert field in page


def test_preview_shows_the_normalized_reading_and_keeps_the_form(
    client: FlaskClient, runtime: Runtime
) -> None:
    sign_in(client, "operator")
    answer = post(client, "/compose/preview", {"title": "Tiêm phòng", "text": TEXT, "target_mode": "all"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and runtime.previews == [TEXT]
    assert TEXT.lower() in page and "/api/v1/assets/" in page and "sig=" in page
    assert 'value="Tiêm phòng"' in page
    audio = page.split('<audio controls src="')[1].split('"')[0].replace("&amp;", "&")
    assert client.get(audio).status_code == 200


def test_compose_submits_and_an_approver_approves_from_the_queue(
    client: FlaskClient, runtime: Runtime
) -> None:
    sign_in(client, "operator")
    bulletin_id = _compose(client, target_mode="villages", villages=["ban-lim", "ban-co"])
    assert runtime.changed == [bulletin_id]
    page = client.get(f"/bulletins/{bulletin_id}").get_data(as_text=True)
    assert "Chờ duyệt" in page and "Thôn bản: Bản Có, Bản Lìm" in page
    approver = client.application.test_client()
    sign_in(approver, "approver")
    queue = approver.get("/approvals").get_data(as_text=True)
    assert "Tiêm phòng" in queue and "Lý do từ chối" in queue and "Nghe thử giọng đọc" in queue
    answer = post(approver, f"/bulletins/{bulletin_id}/approve", {"back": "queue"})
    assert answer.headers["Location"] == "/approvals"
    with runtime.db.session() as db:
        assert services.get_bulletin(db, bulletin_id).status == "approved"
    trail = approver.get(f"/bulletins/{bulletin_id}").get_data(as_text=True)
    assert "duyệt bản tin" in trail and "gửi duyệt" in trail and "soạn bản tin" in trail
    assert "bulletin.approve" not in trail  # the change history speaks words, not codes


def test_an_author_cannot_approve_their_own_bulletin(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "admin")
    bulletin_id = _compose(client)
    page = client.get("/approvals").get_data(as_text=True)
    assert "không thể tự duyệt" in page
    post(client, f"/bulletins/{bulletin_id}/approve", {})
    assert "nên không thể tự duyệt" in client.get(f"/bulletins/{bulletin_id}").get_data(as_text=True)
    with runtime.db.session() as db:
        assert services.get_bulletin(db, bulletin_id).status == "pending"


def test_reject_needs_a_reason_and_shows_it(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "operator")
    bulletin_id = _compose(client)
    approver = client.application.test_client()
    sign_in(approver, "approver")
    post(approver, f"/bulletins/{bulletin_id}/reject", {"reason": "  "})
    with runtime.db.session() as db:
        assert services.get_bulletin(db, bulletin_id).status == "pending"
    post(approver, f"/bulletins/{bulletin_id}/reject", {"reason": "Sai ngày tiêm, kiểm tra lại."})
    page = client.get(f"/bulletins/{bulletin_id}").get_data(as_text=True)
    assert "Bị từ chối" in page and "Lý do từ chối: Sai ngày tiêm" in page


def test_a_recording_with_its_language_is_attached(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "operator")
    fields = {
        "csrf_token": csrf(client, "/compose"),
        "title": "Thông báo tiếng Mông",
        "text": "Bản ghi âm tiếng Mông về tiêm phòng.",
        "source": "recording",
        "language": "mong",
        "target_mode": "clusters",
        "clusters": ["tule-c07"],
        "audio": (io.BytesIO(b"webm-bytes"), "ghi-am.webm"),
    }
    answer = client.post("/compose", data=fields, content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:1000]
    bulletin_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    with runtime.db.session() as db:
        view = services.get_bulletin(db, bulletin_id)
    assert [(a.language, a.kind) for a in view.audio] == [("mong", "recorded")]
    assert "Tiếng Mông" in client.get(f"/bulletins/{bulletin_id}").get_data(as_text=True)


def test_a_recording_without_a_file_is_refused_with_the_form_kept(client: FlaskClient) -> None:
    sign_in(client, "operator")
    answer = post(
        client, "/compose", {"title": "Ghi âm", "text": "x", "source": "recording", "language": "dao"}
    )
    assert answer.status_code == 422 and "Hãy chọn tệp âm thanh" in answer.get_data(as_text=True)


def test_emergency_needs_a_confirmation_then_is_approved_at_once(
    client: FlaskClient, runtime: Runtime
) -> None:
    sign_in(client, "admin")
    confirm = post(
        client, "/emergency/confirm", {"title": "Lũ quét", "text": "Sơ tán ngay.", "target_mode": "all"}
    )
    page = confirm.get_data(as_text=True)
    assert "Xác nhận phát ngay" in page and runtime.changed == []
    answer = post(client, "/emergency", {"title": "Lũ quét", "text": "Sơ tán ngay.", "target_mode": "all"})
    bulletin_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    with runtime.db.session() as db:
        view = services.get_bulletin(db, bulletin_id)
    assert (view.priority, view.status, runtime.changed) == ("emergency", "approved", [bulletin_id])


def test_operators_and_viewers_get_no_emergency_button(client: FlaskClient) -> None:
    for username in ("operator", "viewer"):
        sign_in(client, username)
        assert "nav-emergency" not in client.get("/bulletins").get_data(as_text=True)
        assert client.get("/emergency").status_code == 403
        assert post(client, "/emergency", {"title": "x", "text": "y"}).status_code == 403


def test_an_approver_puts_an_emergency_on_air_alone_and_it_is_audited(
    client: FlaskClient, runtime: Runtime
) -> None:
    """The one-person rule (docs/security.md): the same use case as POST /api/v1/emergencies."""
    sign_in(client, "approver")
    assert "nav-emergency" in client.get("/bulletins").get_data(as_text=True)
    answer = post(client, "/emergency", {"title": "Lũ quét", "text": "Sơ tán ngay.", "target_mode": "all"})
    bulletin_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    with runtime.db.session() as db:
        view = services.get_bulletin(db, bulletin_id)
        trail = [e.action for e in services.list_audit(db, entity="bulletin", entity_id=bulletin_id)]
    assert (view.status, runtime.changed) == ("approved", [bulletin_id])
    assert "bulletin.emergency_one_person" in trail
