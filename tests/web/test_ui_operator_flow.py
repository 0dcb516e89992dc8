"""The operator's and approver's day in the UI: every schedule option, edit after approval, where and when
on the approval cards, the pending count, the emergency button on every page with its voice preview."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from controller import services
from tests.web.conftest import Runtime
from tests.web.ui_support import post, sign_in
from web import WebContext
from web.ui import schedule_form

TEXT = "UBND xã thông báo: lịch tiêm phòng cho gia súc vào 7h30 ngày 25/11."
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = {"title": "Tiêm phòng", "text": TEXT, "priority": "normal", "target_mode": "villages"}


def _stored(runtime: Runtime, bulletin_id: int) -> services.BulletinView:
    with runtime.db.session() as db:
        return services.get_bulletin(db, bulletin_id)


def test_every_schedule_option_reaches_the_bulletin(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "operator")
    page = client.get("/compose").get_data(as_text=True)
    for label in ("Vào những ngày chọn", "Hằng ngày, trong một số ngày", "Phát từ giờ", "Không phát sau"):
        assert label in page
    fields = {
        **BASE,
        "villages": ["ban-lim"],
        "schedule": "daily",
        "days": "5",
        "start_date": "2026-11-23",
        "weekdays": ["0", "2"],
        "windows": ["morning"],
        "start_time": "06:00",
        "repeat": "2",
        "expires_at": "2026-11-28T07:00",
    }
    answer = post(client, "/compose", fields)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:1500]
    bulletin_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    schedule = _stored(runtime, bulletin_id).schedule
    assert schedule["mode"] == "daily" and schedule["days"] == 5 and schedule["weekdays"] == [0, 2]
    assert (schedule["windows"], schedule["start_time"], schedule["repeat"]) == (["morning"], "06:00:00", 2)
    assert schedule["expires_at"].startswith("2026-11-28T00:00:00")  # 07:00 in Hà Nội is 00:00 UTC
    shown = client.get(f"/bulletins/{bulletin_id}").get_data(as_text=True)
    assert "Hằng ngày trong 5 ngày từ 23/11/2026 (Thứ Hai, Thứ Tư), buổi sáng, từ 06:00" in shown
    assert "phát 2 lần mỗi khung giờ; hết hạn lúc 07:00 28/11/2026" in shown


def test_a_date_schedule_and_its_bad_inputs_in_vietnamese(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "operator")
    dated = post(
        client,
        "/compose",
        {**BASE, "villages": ["ban-lim"], "schedule": "dates", "dates": ["2026-11-24", "", "2026-11-23"]},
    )
    assert dated.status_code == 302
    assert _stored(runtime, int(dated.headers["Location"].rsplit("/", 1)[1])).schedule["dates"] == [
        "2026-11-23",
        "2026-11-24",
    ]
    cases: list[tuple[dict[str, object], str]] = [
        ({"schedule": "dates"}, "Hãy chọn ít nhất một ngày phát."),
        ({"schedule": "dates", "dates": ["24/11"]}, "Ngày phát “24/11” không phải một ngày"),
        ({"schedule": "daily"}, "Hãy nhập số ngày phát (1–31)."),
        ({"schedule": "daily", "days": "40"}, "Số ngày phát “40” phải là số nguyên từ 1 đến 31."),
        ({"repeat": "nhiều"}, "Số lần phát mỗi khung giờ “nhiều” phải là số nguyên từ 1 đến 10."),
        ({"start_time": "7 giờ"}, "Giờ bắt đầu “7 giờ” phải có dạng giờ:phút."),
        ({"schedule": "weekly"}, "Hãy chọn thời gian phát"),
    ]
    before = len(runtime.changed)
    for extra, words in cases:
        answer = post(client, "/compose", {**BASE, "villages": ["ban-lim"], **extra})
        assert answer.status_code == 422, extra
        page = answer.get_data(as_text=True)
        assert words in page, (extra, words)
        assert 'value="Tiêm phòng"' in page  # the form keeps what was typed
    assert len(runtime.changed) == before  # nothing was saved


def test_approver_card_shows_where_and_when_and_the_nav_counts_them(
    client: FlaskClient, runtime: Runtime
) -> None:
    sign_in(client, "operator")
    post(
        client,
        "/compose",
        {**BASE, "villages": ["ban-lim", "giang-cai"], "schedule": "dates", "dates": ["2026-11-24"]},
    )
    post(client, "/compose", {**BASE, "target_mode": "all", "title": "Họp thôn"})
    approver = client.application.test_client()
    sign_in(approver, "approver")
    queue = approver.get("/approvals").get_data(as_text=True)
    assert "Thôn bản: Bản Lìm, Giàng Cài" in queue and "Tất cả thôn bản (12 cụm loa)" in queue
    assert "Các ngày 24/11/2026" in queue and "Buổi sáng 05:00 24/11/2026" in queue
    assert "Khung giờ phát kế tiếp" in queue and "Buổi chiều 17:00 22/11/2026" in queue
    assert 'aria-label="2 bản tin đang chờ"' in approver.get("/bulletins").get_data(as_text=True)
    assert "bản tin đang chờ" not in client.get("/bulletins").get_data(as_text=True)  # operators: no count


def test_edit_after_approval_goes_back_for_approval(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "operator")
    created = post(client, "/compose", {**BASE, "villages": ["ban-lim"]})
    bulletin_id = int(created.headers["Location"].rsplit("/", 1)[1])
    approver = client.application.test_client()
    sign_in(approver, "approver")
    post(approver, f"/bulletins/{bulletin_id}/approve", {})
    assert _stored(runtime, bulletin_id).status == "approved"
    form = client.get(f"/bulletins/{bulletin_id}/edit").get_data(as_text=True)
    assert "Sửa bản tin #" in form and "quay lại hàng chờ duyệt" in form and 'value="Tiêm phòng"' in form
    assert 'value="ban-lim" checked' in form
    saved = post(
        client,
        f"/bulletins/{bulletin_id}/edit",
        {**BASE, "villages": ["ban-lim"], "text": "Lịch tiêm đổi sang 8h."},
    )
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Bản tin đã được gửi duyệt lại" in page
    after = _stored(runtime, bulletin_id)
    assert (after.status, after.text) == ("pending", "Lịch tiêm đổi sang 8h.")
    assert approver.get(f"/bulletins/{bulletin_id}/edit").status_code == 403  # not the author
    bad = post(client, f"/bulletins/{bulletin_id}/edit", {**BASE, "villages": ["ban-lim"], "text": "  "})
    assert bad.status_code == 422 and _stored(runtime, bulletin_id).text == "Lịch tiêm đổi sang 8h."
    post(client, f"/bulletins/{bulletin_id}/cancel", {})
    assert client.get(f"/bulletins/{bulletin_id}/edit").status_code == 409


def test_preview_answers_a_fragment_to_the_script(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "operator")
    headers = {"X-Requested-With": "fetch"}
    answer = client.post(
        "/compose/preview",
        data={"csrf_token": _token(client), "text": TEXT},
        headers=headers,
        content_type="multipart/form-data",
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<audio controls src=" in html and "<html" not in html
    empty = client.post(
        "/compose/preview", data={"csrf_token": _token(client), "text": " "}, headers=headers,
        content_type="multipart/form-data",
    )  # fmt: skip
    assert empty.status_code == 422 and "Chưa có nội dung để nghe thử" in empty.get_data(as_text=True)


def _token(client: FlaskClient) -> str:
    from tests.web.ui_support import csrf

    return csrf(client, "/bulletins")


def test_emergency_button_is_on_every_page_and_its_confirmation_previews_the_voice(
    client: FlaskClient, runtime: Runtime
) -> None:
    sign_in(client, "admin")
    for path in ("/bulletins", "/devices", "/schedule", "/lexicon", "/compose"):
        page = client.get(path).get_data(as_text=True)
        header = page.split("</header>")[0]
        assert 'class="nav-emergency" href="/emergency">Phát khẩn cấp</a>' in header, path
    confirm = post(
        client, "/emergency/confirm", {"title": "Lũ quét", "text": "Sơ tán ngay.", "target_mode": "all"}
    )
    page = confirm.get_data(as_text=True)
    assert "Nghe trước khi phát" in page and "data-auto" in page and "preview.js" in page
    assert page.index("Nghe trước khi phát") < page.index('big">Xác nhận phát ngay')
    heard = post(
        client, "/emergency/preview", {"title": "Lũ quét", "text": "Sơ tán ngay.", "target_mode": "all"}
    )
    assert heard.status_code == 200 and "<audio controls src=" in heard.get_data(as_text=True)
    assert "Xác nhận phát ngay" in heard.get_data(as_text=True)  # without script: the confirmation again
    assert runtime.previews == ["Sơ tán ngay."] and runtime.changed == []  # nothing is on air yet


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ({"mode": "next_window"}, "Khung giờ phát kế tiếp"),
        ({"mode": "dates", "dates": ["2026-12-01", "2026-12-03"]}, "Các ngày 01/12/2026, 03/12/2026"),
        ({"mode": "daily", "days": 3}, "Hằng ngày trong 3 ngày từ ngày được duyệt"),
    ],
)
def test_schedules_in_words(mode: dict[str, object], words: str, runtime: Runtime) -> None:
    from controller.planning import load_schedule
    from tests.web.conftest import NOW

    windows = load_schedule(Path("schedules/default.toml"))
    assert schedule_form.describe(mode, windows) == words
    assert schedule_form.expected({"mode": "next_window"}, windows, NOW) == "Buổi chiều 17:00 22/11/2026"
    stored = schedule_form.form_of(
        {"mode": "dates", "dates": ["2026-12-01"], "expires_at": "2026-12-02T00:00:00+00:00"}, ZONE
    )
    assert stored["expires_at"] == "2026-12-02T07:00"
    again = schedule_form.schedule_of(
        MultiDict([("schedule", "dates"), ("dates", "2026-12-01"), ("expires_at", stored["expires_at"])]),
        ZONE,
    )
    assert datetime.fromisoformat(again["expires_at"]) == datetime.fromisoformat("2026-12-02T00:00:00+00:00")


def test_schedule_page_is_by_window_and_village_without_a_line_per_cluster(
    context: WebContext, runtime: Runtime
) -> None:
    import dataclasses
    import re

    from controller.planning import load_schedule
    from tests.web.test_ui_pages import planned
    from web import create_app

    _ids, result = planned(runtime, load_schedule(context.settings.schedule))
    client = create_app(dataclasses.replace(context, planning_preview=lambda: result)).test_client()
    sign_in(client, "operator")
    page = client.get("/schedule").get_data(as_text=True)
    evening = page.split("Buổi chiều 22/11")[1].split("</section>")[0]
    assert evening.count("<h3>Bản Lìm") == 1  # both of its clusters in one row
    assert evening.count("Tin dài 0") == 1 and evening.count('class="timeline"') == 2  # window and village
    assert not re.search(r"<time>\d\d:\d\d:\d\d</time>", page)  # minutes, not seconds
    deferred = page.split("Bản tin bị hoãn")[1]
    assert deferred.count("Tin dài 2") == 1 and "(2 cụm loa)" in deferred
