"""Every page in a real chromium at phone and desktop width: labelled inputs, no sideways scrolling,
keyboard use of the main forms, a visible focus ring; screenshots of each page.
"""

import dataclasses

import pytest
from playwright.sync_api import Browser, Page

from controller.planning import load_schedule
from tests.ui.conftest import Live, no_sideways_scroll, open_page, serve, shot, sign_in, unlabelled
from tests.web.conftest import PASSWORD, Runtime
from tests.web.test_ui_pages import planned
from web import WebContext

PAGES = (
    ("bulletins", "/bulletins"),
    ("compose", "/compose"),
    ("approvals", "/approvals"),
    ("schedule", "/schedule"),
    ("devices", "/devices"),
    ("device", "/devices/tule-c01"),
    ("plays", "/plays"),
    ("report", "/reports"),
    ("users", "/users"),
    ("emergency", "/emergency"),
    ("drills", "/drills"),
    ("cap-sources", "/cap/sources"),
)


def _tab_to(page: Page, text: str, limit: int = 80) -> None:
    """Press Tab until the focused element reads `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == text:
            return
    pytest.fail(f"could not reach {text!r} with the Tab key")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_every_page_is_labelled_and_fits_the_screen(browser: Browser, live: Live, viewport: str) -> None:
    page = open_page(browser, viewport)
    page.goto(f"{live.base}/login")
    assert page.get_attribute("html", "lang") == "vi"
    shot(page, f"{viewport}-login")
    sign_in(page, live.base, "admin", PASSWORD)
    for name, path in PAGES:
        page.goto(f"{live.base}{path}")
        assert page.title().endswith("Truyền thanh xã"), (path, page.title())
        assert unlabelled(page) == [], path
        assert no_sideways_scroll(page), path
        shot(page, f"{viewport}-{name}")
    if viewport == "desktop":  # paper is about as wide as a desktop window, not a phone
        page.goto(f"{live.base}/reports")
        page.emulate_media(media="print")
        assert not page.is_visible("nav") and not page.is_visible("text=Tải CSV")
        shot(page, "desktop-report-print")
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_compose_preview_and_submit_with_the_keyboard(browser: Browser, live: Live, viewport: str) -> None:
    page = open_page(browser, viewport)
    sign_in(page, live.base, "operator", PASSWORD)
    page.goto(f"{live.base}/compose")
    page.get_by_label("Tiêu đề").fill("Lịch tiêm phòng")
    page.get_by_label("Nội dung bản tin").fill("UBND xã thông báo: tiêm phòng lúc 7h30 ngày 25/11.")
    page.get_by_role("button", name="Nghe thử giọng đọc").click()
    page.get_by_text("Máy sẽ đọc là").wait_for()
    assert page.get_by_label("Tiêu đề").input_value() == "Lịch tiêm phòng"
    shot(page, f"{viewport}-compose-preview")
    page.get_by_label("Tiêu đề").focus()
    _tab_to(page, "Gửi duyệt")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no focus ring"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_text("Đã gửi bản tin đi duyệt.").wait_for()
    assert "Chờ duyệt" in page.inner_text("main")
    shot(page, f"{viewport}-bulletin-pending")
    page.context.close()


@pytest.mark.browser
def test_reject_form_is_keyboard_usable(browser: Browser, live: Live) -> None:
    author = open_page(browser, "phone")
    sign_in(author, live.base, "operator", PASSWORD)
    author.goto(f"{live.base}/compose")
    author.get_by_label("Tiêu đề").fill("Tin cần sửa")
    author.get_by_label("Nội dung bản tin").fill("Nội dung còn thiếu ngày giờ.")
    author.get_by_role("button", name="Gửi duyệt").click()
    author.get_by_text("Đã gửi bản tin đi duyệt.").wait_for()
    page = open_page(browser, "phone")
    sign_in(page, live.base, "approver", PASSWORD)
    page.goto(f"{live.base}/approvals")
    page.get_by_label("Lý do từ chối").first.fill("Thiếu ngày giờ cụ thể.")
    page.get_by_label("Lý do từ chối").first.focus()
    _tab_to(page, "Từ chối bản tin Tin cần sửa")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_text("Đã từ chối bản tin.").wait_for()
    shot(page, "phone-approvals-after-reject")
    author.reload()
    assert "Lý do từ chối: Thiếu ngày giờ cụ thể." in author.inner_text("main")
    author.context.close()
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_schedule_view_with_a_plan(
    browser: Browser, context: WebContext, runtime: Runtime, viewport: str
) -> None:
    _ids, result = planned(runtime, load_schedule(context.settings.schedule))
    with serve(dataclasses.replace(context, planning_preview=lambda: result)) as running:
        page = open_page(browser, viewport)
        sign_in(page, running.base, "operator", PASSWORD)
        page.goto(f"{running.base}/schedule")
        text = page.inner_text("main")
        assert "Tin dài 0" in text and "Khung giờ đã đầy, chuyển sang khung sau" in text
        assert unlabelled(page) == [] and no_sideways_scroll(page)
        shot(page, f"{viewport}-schedule-planned")
        page.goto(f"{running.base}/compose")
        shot(page, f"{viewport}-compose-busy-window")
        page.context.close()


@pytest.mark.browser
def test_an_admin_adds_a_cap_source_on_a_phone(browser: Browser, live: Live) -> None:
    page = open_page(browser, "phone")
    sign_in(page, live.base, "admin", PASSWORD)
    page.goto(f"{live.base}/drills")
    page.get_by_role("link", name="Nguồn cảnh báo CAP").click()
    page.get_by_label("Tên nguồn").fill("Đài KTTV tỉnh Yên Bái")
    page.get_by_label("Bên gửi được nhận").fill("canhbao@kttv-yenbai.gov.vn")
    page.get_by_label("Không tự phát: mọi cảnh báo vào hộp thư").check()
    page.get_by_label("Âm lượng phát thử").fill("45")
    with page.expect_navigation():
        page.get_by_role("button", name="Thêm nguồn").click()
    page.get_by_text("Đã thêm nguồn “Đài KTTV tỉnh Yên Bái”").wait_for()
    text = page.inner_text("main")
    assert "/api/v1/cap/sources/1/push" in text and "Phát thử ở âm lượng 45" in text
    assert unlabelled(page) == [] and no_sideways_scroll(page)  # the token and URL wrap
    shot(page, "phone-cap-source-added")
    page.context.close()
