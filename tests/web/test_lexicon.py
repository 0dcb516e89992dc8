"""`/api/v1/lexicon`: the commune's dictionary over REST, and that an edit changes how text is read."""

from urllib.parse import quote

from flask.testing import FlaskClient

from controller.tts import commune_lexicon, normalize_text
from tests.web.conftest import Runtime
from web.context import WebContext


def test_get_lists_packaged_entries_for_admins_only(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.get("/api/v1/lexicon", headers=runtime.auth("admin"))
    assert answer.status_code == 200
    entries = {entry["key"]: entry for entry in answer.json["entries"]}
    assert entries["UBND"] == {
        "key": "UBND",
        "reading": "ủy ban nhân dân",
        "kind": "abbreviation",
        "source": "packaged",
        "packaged_reading": None,
    }
    assert entries["YB"]["kind"] == "place"
    assert len(answer.json["version"]) == 16
    for role in ("operator", "approver", "viewer"):
        denied = client.get("/api/v1/lexicon", headers=runtime.auth(role))
        assert denied.status_code == 403
        assert "Hãy nhờ quản trị viên" in denied.json["error"]["message"]
    assert client.get("/api/v1/lexicon").status_code == 401


def test_put_replaces_the_commune_list_and_changes_the_reading(
    client: FlaskClient, runtime: Runtime, context: WebContext
) -> None:
    data_dir = context.settings.data_dir
    before = client.get("/api/v1/lexicon", headers=runtime.auth("admin")).json["version"]
    body = {
        "version": before,
        "entries": [
            {"key": "TL", "reading": "Tú Lệ", "kind": "place"},
            {"key": "UBND", "reading": "ủy ban"},
            {"key": 'Bản "Lìm"', "reading": "bản Lìm", "kind": "place"},
        ],
    }
    answer = client.put("/api/v1/lexicon", json=body, headers=runtime.auth("admin"))
    assert answer.status_code == 200, answer.json
    entries = {entry["key"]: entry for entry in answer.json["entries"]}
    assert entries["TL"]["source"] == "commune"
    assert (entries["UBND"]["reading"], entries["UBND"]["packaged_reading"]) == ("ủy ban", "ủy ban nhân dân")
    assert answer.json["version"] != before
    assert normalize_text("UBND xã TL.", commune_lexicon(data_dir)).text == "ủy ban xã Tú Lệ."
    # A second save from the old version would overwrite this one: refused.
    stale = client.put("/api/v1/lexicon", json=body, headers=runtime.auth("admin"))
    assert stale.status_code == 409
    assert "Hãy tải lại" in stale.json["error"]["message"]


def test_one_entry_is_set_and_removed_by_its_url(
    client: FlaskClient, runtime: Runtime, context: WebContext
) -> None:
    admin = runtime.auth("admin")
    url = f"/api/v1/lexicon/entries/{quote('Đ/c', safe='')}"
    answer = client.put(url, json={"reading": "đồng chí cán bộ"}, headers=admin)
    assert answer.status_code == 200, answer.json
    assert normalize_text("Đ/c Hùng.", commune_lexicon(context.settings.data_dir)).text == (
        "đồng chí cán bộ Hùng."
    )
    assert client.delete(url, headers=admin).status_code == 200
    assert normalize_text("Đ/c Hùng.", commune_lexicon(context.settings.data_dir)).text == "đồng chí Hùng."
    missing = client.delete(url, headers=admin)
    assert missing.status_code == 404
    assert "Các mục có sẵn không xóa được" in missing.json["error"]["message"]


def test_invalid_entries_are_422_with_reasons(client: FlaskClient, runtime: Runtime) -> None:
    admin = runtime.auth("admin")
    cases = [
        ({"entries": [{"key": "4G", "reading": "4 gờ"}]}, "hãy viết số thành chữ"),
        ({"entries": [{"key": " TL", "reading": "Tú Lệ"}]}, "không có khoảng trắng ở hai đầu"),
        ({"entries": [{"key": "TL", "reading": "..."}]}, "cách đọc đang trống"),
        ({"entries": [{"key": "TL", "reading": "Tú Lệ", "kind": "person"}]}, "kind"),
        (
            {"entries": [{"key": "TL", "reading": "Tú Lệ"}, {"key": "TL", "reading": "Tà Lù"}]},
            "dạng viết bị lặp",
        ),
        ({"entries": [{"key": "TL", "reading": "Tú Lệ", "colour": "red"}]}, "trường không có"),
        ({"entries": [{"key": "x" * 41, "reading": "ích"}]}, "key"),
    ]
    for body, reason in cases:
        answer = client.put("/api/v1/lexicon", json=body, headers=admin)
        assert answer.status_code == 422, body
        assert answer.json["error"]["code"] == "validation_failed"
        assert reason in answer.json["error"]["message"], answer.json
    one = client.put("/api/v1/lexicon/entries/TL", json={"reading": "Tú Lệ 2"}, headers=admin)
    assert one.status_code == 422
    assert "hãy viết số thành chữ" in one.json["error"]["message"]
    assert client.get("/api/v1/lexicon", headers=admin).json["entries"][0]["source"] == "packaged"
