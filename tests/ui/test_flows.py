"""Whole flows in a real chromium against a running deployment with real agents (DESIGN §10):
compose → approve → played; an agent stops → the dashboard shows it offline; an emergency plays at once.
Run at phone and desktop width, with a screenshot of each step.
"""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page

from tests.integration.conftest import DEMO_PASSWORD, Deployment, wait_for
from tests.ui.conftest import open_page, shot, sign_in

CLUSTERS = ("tule-c01", "tule-c02", "tule-c03")


def _plays(deployment: Deployment, bulletin_id: int, status: str | None = None) -> list[dict[str, object]]:
    """The as-run rows of a bulletin (of one status, or all)."""
    _, body = deployment.api.call("GET", f"/plays?bulletin={bulletin_id}", user="admin")
    return [p for p in body["items"] if status in (None, p["status"])]


def _compose(page: Page, base: str, title: str) -> int:
    page.goto(f"{base}/compose")
    page.get_by_label("Tiêu đề").fill(title)
    page.get_by_label("Nội dung bản tin").fill(
        "UBND xã Tú Lệ thông báo: rét đậm từ ngày 25/11, bà con giữ ấm."
    )
    page.get_by_label("Chọn cụm loa").check()
    page.locator("summary", has_text="Cụm loa").click()  # opens the list of clusters
    for number in (1, 2, 3):
        page.get_by_label(f"Cụm loa {number:02d}", exact=False).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi duyệt").click()
    page.get_by_text("Đã gửi bản tin đi duyệt.").wait_for()
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def _reload_until(page: Page, text: str, where: str, timeout: float) -> None:
    def shows() -> bool:
        page.reload()
        return text in page.inner_text(where)

    wait_for(f"{text!r} in {where} of {page.url}", shows, timeout)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_compose_approve_play_offline_and_emergency(
    browser: Browser, deployment: Deployment, viewport: str
) -> None:
    base, window = deployment.api.base, deployment.window
    for device in CLUSTERS:
        deployment.start_agent(device)

    operator = open_page(browser, viewport)
    sign_in(operator, base, "operator", DEMO_PASSWORD)
    bulletin_id = _compose(operator, base, "Phòng chống rét đậm")
    shot(operator, f"flow-{viewport}-1-submitted")

    approver = open_page(browser, viewport)
    sign_in(approver, base, "approver", DEMO_PASSWORD)
    approver.goto(f"{base}/approvals")
    shot(approver, f"flow-{viewport}-2-queue")
    with approver.expect_navigation():
        approver.get_by_role("button", name="Duyệt bản tin Phòng chống rét đậm").click()
    approver.get_by_text("Đã duyệt bản tin").wait_for()

    wait_for("agents online", lambda: all(deployment.device(d)["online"] for d in CLUSTERS), timeout=30)
    until_end = (window.end - datetime.now(UTC)).total_seconds() + 10
    wait_for(
        "a finished play on every target",
        lambda: len(_plays(deployment, bulletin_id, "finished")) == 3,
        until_end,
    )
    operator.goto(f"{base}/bulletins/{bulletin_id}")
    assert operator.inner_text("main").count("Đã phát") >= 3
    shot(operator, f"flow-{viewport}-3-played")
    operator.goto(f"{base}/plays")
    assert "3 lượt phát" in operator.inner_text("main")
    shot(operator, f"flow-{viewport}-4-as-run")

    deployment.agents["tule-c03"].kill()
    admin = open_page(browser, viewport)
    sign_in(admin, base, "admin", DEMO_PASSWORD)
    admin.goto(f"{base}/devices")
    _reload_until(admin, "Ngoại tuyến", '[data-device="tule-c03"]', timeout=15)
    assert "Trực tuyến" in admin.inner_text('[data-device="tule-c01"]')
    assert "2/12" in admin.inner_text("main")
    shot(admin, f"flow-{viewport}-5-offline")
    admin.goto(f"{base}/devices/tule-c01")
    shot(admin, f"flow-{viewport}-6-device")

    admin.goto(f"{base}/emergency")
    admin.get_by_label("Nội dung").fill("Lũ quét ở suối Tú Lệ, bà con tránh xa bờ suối ngay.")
    admin.get_by_label("Chọn thôn bản").check()
    admin.locator("summary", has_text="Thôn bản").click()
    admin.get_by_label("Bản Lìm").check()
    admin.get_by_role("button", name="Tiếp tục").click()
    admin.get_by_text("Xác nhận phát ngay?").wait_for()
    shot(admin, f"flow-{viewport}-7-emergency-confirm")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Xác nhận phát ngay").click()
    emergency_id = int(admin.url.rstrip("/").rsplit("/", 1)[1])
    assert "Khẩn cấp" in admin.inner_text("main") and "Đã duyệt" in admin.inner_text("main")
    wait_for("the emergency playing on Bản Lìm's clusters", lambda: _plays(deployment, emergency_id), 30)
    admin.goto(f"{base}/plays?bulletin={emergency_id}")
    shot(admin, f"flow-{viewport}-8-emergency-as-run")
    admin.goto(f"{base}/bulletins/{emergency_id}")
    shot(admin, f"flow-{viewport}-8-emergency-sent")
    for page in (operator, approver, admin):
        page.context.close()
