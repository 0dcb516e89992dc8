"""The CAP sources page and the drill form's volume: what an admin and an approver see and type."""

import html
import re

from flask.testing import FlaskClient

from controller.services.drills import DEFAULT_DRILL_VOLUME
from tests.cap.support import SENDER, fixture
from tests.support.english import english_in_page
from tests.web.conftest import Runtime
from tests.web.test_cap_in import bulletin_count, source_page
from tests.web.ui_support import post, sign_in

_CODE = re.compile(r"<code[^>]*>([^<]+)</code>")


def test_an_admin_adds_a_source_and_sees_its_token_once(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "admin")
    empty = client.get("/cap/sources")
    assert empty.status_code == 200 and "Chưa có nguồn cảnh báo nào" in empty.text
    fields = {"name": "Đài KTTV Yên Bái", "url": "", "senders": f"{SENDER}\nkhac@example.vn",
              "preset": "priority", "drill_volume": "40"}  # fmt: skip
    added = post(client, "/cap/sources", fields)
    assert added.status_code == 201, added.text[:2000]
    push_url, token = [html.unescape(code) for code in _CODE.findall(added.text)][:2]
    assert push_url.endswith("/api/v1/cap/sources/1/push") and len(token) > 30
    pushed = client.post(
        push_url.replace("http://localhost", ""), data=fixture("alert.xml", runtime.now),
        content_type="application/cap+xml", headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert (pushed.status_code, pushed.json["action"]) == (202, "priority")  # the preset: nobody is woken
    page = source_page(client, runtime, 1)
    assert page["senders"] == [SENDER, "khac@example.vn"] and page["policy"]["drill_volume"] == 40
    stranger = fixture("alert.xml", runtime.now).replace(SENDER.encode(), b"la@example.vn")
    refused = client.post(
        push_url.replace("http://localhost", ""), data=stranger,
        content_type="application/cap+xml", headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert refused.status_code == 422
    listed = client.get("/cap/sources")
    assert token not in listed.text  # shown once, on the answer to the form
    assert "Bên gửi không có trong danh sách" in listed.text
    assert "Bị từ chối: <strong>1</strong>" in listed.text
    assert "Phát thử ở âm lượng 40" in listed.text and "Không tự phát: Nghiêm trọng trở lên" in listed.text
    assert not english_in_page(listed.text) and not english_in_page(added.text)


def test_bad_source_forms_are_refused_in_vietnamese(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "admin")
    good = {"name": "Nguồn", "senders": SENDER, "preset": "default", "drill_volume": "60"}
    for change, words in (
        ({"senders": ""}, "Danh sách bên gửi cần"),
        ({"preset": "loud"}, "Chọn một chính sách"),
        ({"drill_volume": "101"}, "Âm lượng phát thử phải là số nguyên từ 0 đến 100"),
        ({"drill_volume": "-1"}, "Âm lượng phát thử phải là số nguyên từ 0 đến 100"),
        ({"url": "ftp://x"}, "phải bắt đầu bằng http://"),
    ):
        answer = post(client, "/cap/sources", {**good, **change})
        assert answer.status_code == 422, change
        assert words in html.unescape(answer.text), (change, answer.text[:3000])
        assert not english_in_page(answer.text), change
    assert client.get("/api/v1/cap/sources", headers=runtime.auth("admin")).json["items"] == []
    sign_in(client, "approver")
    assert client.get("/cap/sources").status_code == 403
    assert "Nguồn cảnh báo" not in client.get("/drills").text  # the link is for admins only


def test_the_drill_form_sets_the_volume(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "approver")
    index = client.get("/drills")
    assert 'name="volume" type="number" inputmode="numeric" min="0" max="100" step="1"' in index.text
    assert f'value="{DEFAULT_DRILL_VOLUME}" required>' in index.text
    before = bulletin_count(runtime)
    for volume in ("x", "101", "-5", "4.5"):
        refused = post(client, "/drills", {"target_mode": "all", "volume": volume})
        assert refused.status_code == 422, volume
        assert "Âm lượng phát thử phải là số nguyên từ 0 đến 100" in html.unescape(refused.text), volume
    assert bulletin_count(runtime) == before
    started = post(client, "/drills", {"target_mode": "villages", "villages": "ban-lim", "volume": "25"})
    assert started.status_code == 302
    drill_id = int(started.headers["Location"].rsplit("/", 1)[1])
    assert "Âm lượng 25 trên mọi cụm loa" in client.get(started.headers["Location"]).text
    report = client.get(f"/api/v1/drills/{drill_id}", headers=runtime.auth("viewer")).json
    assert report["volume"] == 25
