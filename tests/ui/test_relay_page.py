"""The "Tiếp sóng" page (issue 13, item 6) in headless Chromium on a 390 px phone: an admin adds a station
and writes a relay slot through the forms; every field has a label and the page does not scroll sideways.
"""

import pytest
from playwright.sync_api import Browser

from tests.ui.conftest import Live, no_sideways_scroll, shot, sign_in, unlabelled
from tests.web.conftest import PASSWORD


@pytest.mark.browser
def test_an_admin_adds_a_station_and_a_relay_slot_on_a_phone(browser: Browser, live: Live) -> None:
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN").new_page()
    page.set_default_timeout(20_000)
    sign_in(page, live.base, "admin", PASSWORD)
    page.goto(f"{live.base}/tiep-song")
    page.get_by_label("Tên đài").fill("VOV1")
    page.get_by_label("Địa chỉ phát (mỗi dòng một địa chỉ, theo thứ tự loa thử)").fill(
        "http://vov.example/vov1"
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Thêm đài").click()
    page.get_by_text("Đã thêm đài VOV1").wait_for()
    assert unlabelled(page) == [] and no_sideways_scroll(page)
    page.get_by_label("Giờ bắt đầu").fill("17:30")
    page.get_by_label("Thời lượng (phút)").fill("30")
    shot(page, "relay-phone")
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi lượt tiếp sóng đi duyệt").click()
    page.get_by_text("Đã gửi lượt tiếp sóng đi duyệt.").wait_for()
    assert "/bulletins/" in page.url
