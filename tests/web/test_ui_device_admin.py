"""Device administration pages: provisioning with its printable bundle and QR code, rename, move, revoke."""

import re
import tomllib
from html import unescape

from flask.testing import FlaskClient

from tests.web.conftest import Runtime
from tests.web.ui_support import post, sign_in


def test_provision_shows_the_bundle_and_its_qr_code_once(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "admin")
    form = client.get("/devices/new")
    assert form.status_code == 200
    assert "Thêm cụm loa mới" in form.get_data(as_text=True)
    fields = {"id": "tule-c13", "name": "Cụm loa chợ", "village": "ban-lim", "speakers": "3"}
    answer = post(client, "/devices/new", fields)
    assert answer.status_code == 201
    html = answer.get_data(as_text=True)
    found = re.search(r'<pre class="bundle-text" id="bundle-text">(.*?)</pre>', html, re.S)
    assert found
    parsed = tomllib.loads(unescape(found.group(1)))
    assert parsed["device_id"] == "tule-c13"
    assert len(parsed["mqtt"]["password"]) >= 40
    assert 'src="data:image/svg+xml' in html  # the QR code, an image the CSP allows
    assert "chỉ hiện <strong>một lần</strong>" in html
    assert runtime.provisioned == ["tule-c13"]
    again = post(client, "/devices/new", {**fields, "name": "x"})
    assert again.status_code == 422
    assert parsed["mqtt"]["password"] not in again.get_data(as_text=True)


def test_provision_form_refuses_bad_input_in_vietnamese(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "admin")
    bad_speakers = post(
        client, "/devices/new", {"id": "tule-c14", "name": "x", "village": "ban-lim", "speakers": "nhiều"}
    )
    assert bad_speakers.status_code == 422
    assert "Số loa “nhiều” phải là một số nguyên" in bad_speakers.get_data(as_text=True)
    no_village = post(client, "/devices/new", {"id": "tule-c14", "name": "x", "village": "", "speakers": "2"})
    assert no_village.status_code == 422
    assert "Không có thôn/bản" in no_village.get_data(as_text=True)
    assert 'value="tule-c14"' in no_village.get_data(as_text=True)  # the form keeps what was typed
    assert runtime.provisioned == []


def test_operator_cannot_reach_device_administration(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "operator")
    assert client.get("/devices/new").status_code == 403
    assert post(client, "/devices/tule-c01/revoke", {"confirm": "yes"}).status_code == 403
    assert "Thu hồi cụm loa" not in client.get("/devices/tule-c01").get_data(as_text=True)


def test_rename_move_and_revoke_from_the_device_page(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "admin")
    page = client.get("/devices/tule-c01").get_data(as_text=True)
    assert "Đổi tên, chuyển thôn/bản" in page and "Thu hồi cụm loa" in page
    moved = post(client, "/devices/tule-c01/edit", {"name": "Cụm loa trường", "village": "giang-cai"})
    assert moved.status_code == 302
    after = client.get("/devices/tule-c01").get_data(as_text=True)
    assert "Đã lưu cụm loa “Cụm loa trường”" in after
    assert "Giàng Cài" in after
    unknown = post(client, "/devices/tule-c01/edit", {"name": "x", "village": "ban-khong"})
    assert "Không có thôn/bản “ban-khong”" in client.get(unknown.location).get_data(as_text=True)
    unticked = post(client, "/devices/tule-c01/revoke", {})
    assert "Hãy đánh dấu ô xác nhận" in client.get(unticked.location).get_data(as_text=True)
    assert runtime.provisioned == ["tule-c01"]
    revoked = post(client, "/devices/tule-c01/revoke", {"confirm": "yes"})
    assert revoked.location.endswith("/devices")
    assert "Đã thu hồi cụm loa “Cụm loa trường”" in client.get("/devices").get_data(as_text=True)
    gone = client.get("/devices/tule-c01").get_data(as_text=True)
    assert "đã bị thu hồi" in gone and "Thu hồi cụm loa</button>" not in gone
    twice = post(client, "/devices/tule-c01/revoke", {"confirm": "yes"})
    assert "đã bị thu hồi" in client.get(twice.location).get_data(as_text=True)
