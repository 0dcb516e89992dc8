"""The public listen-again page in headless Chromium: no login, phone first, labelled, and it plays."""

import pytest
from playwright.sync_api import Browser

from tests.ui.conftest import Live, no_sideways_scroll, open_page, shot, unlabelled
from tests.web.conftest import Runtime
from tests.web.test_public_feeds import world
from web import WebContext, create_app


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_listen_again_without_login(
    browser: Browser, live: Live, context: WebContext, runtime: Runtime, viewport: str
) -> None:
    world(create_app(context).test_client(), runtime)  # played, emergency, drill, pending, CAP-in bulletins
    page = open_page(browser, viewport)
    page.goto(f"{live.base}/nghe-lai")
    assert page.get_attribute("html", "lang") == "vi"
    assert unlabelled(page) == [] and no_sideways_scroll(page)
    shot(page, f"{viewport}-nghe-lai")
    page.get_by_label("Thôn/bản của bạn").select_option("ban-lim")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem bản tin").click()
    assert "village=ban-lim" in page.url
    assert page.get_by_label("Ngôn ngữ").is_visible()  # Bản Lìm listens in Vietnamese and Thái
    titles = page.locator("article h2").all_inner_texts()
    assert titles == ["Cảnh báo lũ quét khẩn cấp", "Cháy rừng", "Lịch tiêm chủng"]
    sources = [str(a.get_attribute("src")) for a in page.locator("audio").all()]
    assert len(sources) == 3
    for source in sources:  # the players' files load without a login
        assert page.request.get(source).status == 200
    assert unlabelled(page) == [] and no_sideways_scroll(page)
    shot(page, f"{viewport}-nghe-lai-ban-lim")
    page.context.close()
