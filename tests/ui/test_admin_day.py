"""The operator's, approver's and admin's day in a real chromium at 390×844 and at desktop width, against
a running deployment (managed mosquitto, real agents): compose with a date schedule and hear the preview
(progress first, then the player), approve from a card that says where and when, revoke a device (its
real agent is refused by the broker), and reach the emergency action in one tap, hearing it before the
final confirmation. A screenshot of every step goes to var/screenshots/ for a person to look at.
"""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, FilePayload, Page, Route

from tests.integration.conftest import DEMO_PASSWORD, Deployment, wait_for
from tests.ui.conftest import CHROMIUM, Live, sign_in
from tests.web.conftest import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
REVOKED = "tule-c05"


def _page(browser: Browser, viewport: str) -> Page:
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="vi-VN")  # type: ignore[arg-type]
    context.set_default_timeout(30_000)  # two CI cores run the other worker's tests too
    return context.new_page()


def _shot(page: Page, viewport: str, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"day-{viewport}-{step}.png"), full_page=True)


def _in_first_screen(page: Page, selector: str) -> bool:
    """Whether the element lies wholly inside the first screen (no scrolling, no sideways menu)."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and (box["y"] + box["height"] <= size["height"])
    )


def _refused(home: Path) -> bool:
    text = (home / "agent.log").read_text(errors="replace")
    return "broker refused the connection" in text and "Not authorized" in text


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_day_of_operator_approver_and_admin(
    browser: Browser, deployment: Deployment, viewport: str
) -> None:
    assert Path(CHROMIUM).exists()
    base = deployment.api.base
    agent_home = deployment.start_agent(REVOKED)
    today = datetime.now(UTC).astimezone(ZONE).date()

    # The operator composes for today's date and hears the preview: progress first, then the player.
    operator = _page(browser, viewport)
    sign_in(operator, base, "operator", DEMO_PASSWORD)
    operator.goto(f"{base}/compose")
    operator.get_by_label("Tiêu đề").fill("Lịch tiêm phòng")
    operator.get_by_label("Nội dung bản tin").fill(
        "UBND xã Tú Lệ thông báo: tiêm phòng cho gia súc lúc 7h30."
    )
    operator.get_by_label("Chọn thôn bản").check()
    operator.locator("summary", has_text="Thôn bản").click()
    operator.get_by_role("checkbox", name="Bản Lìm (2 cụm loa)").check()
    operator.get_by_label("Vào những ngày chọn").check()
    operator.locator("summary", has_text="Ngày phát").click()
    operator.get_by_label("Ngày 1").fill(today.isoformat())
    held: list[Route] = []

    def hold(route: Route) -> None:  # the answer waits until the progress was seen
        held.append(route)

    operator.route("**/compose/preview", hold)
    operator.get_by_role("button", name="Nghe thử giọng đọc").click()
    operator.locator("#preview-area .progress", has_text="Đang tạo giọng đọc").wait_for()
    _shot(operator, viewport, "1-preview-progress")
    wait_for("the preview request", lambda: held or None, 30)
    held[0].continue_()
    operator.locator("#preview-area audio").wait_for()
    assert "ủy ban nhân dân" in operator.inner_text("#preview-area")
    _shot(operator, viewport, "2-preview-heard")
    with operator.expect_navigation():
        operator.get_by_role("button", name="Gửi duyệt").click()
    operator.get_by_text("Đã gửi bản tin đi duyệt.").wait_for()
    assert f"Các ngày {today:%d/%m/%Y}" in operator.inner_text("main")
    _shot(operator, viewport, "3-submitted")

    # The approver sees how many wait, and on the card where and when it plays; approves.
    approver = _page(browser, viewport)
    sign_in(approver, base, "approver", DEMO_PASSWORD)
    assert approver.locator(".count").inner_text() == "1"
    approver.goto(f"{base}/approvals")
    card = approver.locator("article.card", has_text="Lịch tiêm phòng")
    assert "Thôn bản: Bản Lìm" in card.inner_text() and f"Các ngày {today:%d/%m/%Y}" in card.inner_text()
    assert "Dự kiến phát" in card.inner_text()
    _shot(approver, viewport, "4-approval-card")
    with approver.expect_navigation():
        approver.get_by_role("button", name="Duyệt bản tin Lịch tiêm phòng").click()
    approver.get_by_text("Đã duyệt bản tin").wait_for()
    assert approver.locator(".count").count() == 0

    # The admin revokes a cluster: its real agent is thrown off and refused by the managed broker.
    wait_for(f"{REVOKED} online", lambda: deployment.device(REVOKED)["online"] or None, 30)
    admin = _page(browser, viewport)
    sign_in(admin, base, "admin", DEMO_PASSWORD)
    admin.goto(f"{base}/devices/{REVOKED}")
    admin.get_by_label(f"Tôi hiểu: cụm loa {REVOKED} sẽ ngừng hoạt động ngay.").check()
    with admin.expect_navigation():
        admin.get_by_role("button", name="Thu hồi cụm loa").click()
    admin.get_by_text("Đã thu hồi cụm loa").wait_for()
    wait_for(f"the broker refusing {REVOKED}", lambda: _refused(agent_home) or None, 30)
    _shot(admin, viewport, "5-device-revoked")

    # One tap from any page to the emergency action; the confirmation plays the words before the button.
    assert _in_first_screen(admin, "a.nav-emergency")
    admin.locator("a.nav-emergency").click()
    admin.get_by_label("Nội dung").fill("Lũ quét ở suối Tú Lệ, bà con tránh xa bờ suối ngay.")
    admin.get_by_role("button", name="Tiếp tục").click()
    admin.locator("#emergency-preview audio").wait_for()
    assert "lũ quét" in admin.inner_text("#emergency-preview").lower()
    _shot(admin, viewport, "6-emergency-preview")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Xác nhận phát ngay").click()
    admin.get_by_text("Đã phát lệnh phát khẩn cấp").wait_for()
    _shot(admin, viewport, "7-emergency-sent")
    for page in (operator, approver, admin):
        page.context.close()


@pytest.mark.browser
def test_an_upload_shows_its_progress_then_opens_the_bulletin(browser: Browser, live: Live) -> None:
    operator = _page(browser, "phone")
    sign_in(operator, live.base, "operator", PASSWORD)
    operator.goto(f"{live.base}/compose")
    operator.get_by_label("Tiêu đề").fill("Thông báo bằng tiếng Mông")
    operator.get_by_label("Nội dung bản tin").fill("Bản ghi âm tiếng Mông về lịch tiêm phòng.")
    operator.get_by_label("Bản ghi âm (tải tệp lên hoặc ghi trên máy)").check()
    audio = bytes(range(256)) * 2048  # half a megabyte: the page's fake recording hook takes any bytes
    upload: FilePayload = {"name": "ban-ghi.mp3", "mimeType": "audio/mpeg", "buffer": audio}
    operator.get_by_label("Tệp ghi âm").set_input_files(files=[upload])
    operator.get_by_label("Ngôn ngữ của bản ghi").select_option("mong")
    held: list[Route] = []

    def hold(route: Route) -> None:  # the upload's answer waits until the bar was seen
        held.append(route)

    operator.route("**/compose", hold)
    operator.get_by_role("button", name="Gửi duyệt").click()
    operator.locator("#upload-progress").wait_for()  # visible: the upload runs in the background
    _shot(operator, "phone", "8-upload-progress")
    wait_for("the upload request", lambda: held or None, 30)
    held[0].continue_()
    operator.get_by_text("Đã gửi bản tin đi duyệt.").wait_for()
    assert "/bulletins/" in operator.url and "Thông báo bằng tiếng Mông" in operator.inner_text("h1")
    _shot(operator, "phone", "9-uploaded")
    operator.context.close()
