"""The page "Cập nhật phần mềm" in a real chromium at phone and desktop width: labelled, no sideways
scrolling, the versions bar and each wave's progress drawn; screenshots in test-artifacts/ui/."""

from datetime import timedelta

import pytest
from playwright.sync_api import Browser

from controller.services import record_status, rollouts
from protocol import Status
from tests.ui.conftest import no_sideways_scroll, open_page, serve, shot, sign_in, unlabelled
from tests.web.conftest import NOW, PASSWORD, Runtime
from web import WebContext


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_updates_page_fits_a_phone(
    browser: Browser, context: WebContext, runtime: Runtime, viewport: str
) -> None:
    with runtime.db.session() as session:
        for device in ("tule-c01", "tule-c02", "tule-c05"):
            record_status(session, device, Status("online", 1, "b1", "0.1.0"), NOW)
        rollouts.start_rollout(
            session, NOW, version="0.2.0", sha256="a" * 64, canary=["tule-c01"], share_percent=20,
            deadline=timedelta(minutes=20), actor="admin",
        )  # fmt: skip
    with serve(context) as live:
        page = open_page(browser, viewport)
        sign_in(page, live.base, "admin", PASSWORD)
        page.get_by_role("link", name="Cập nhật phần mềm").click()
        assert page.title().startswith("Cập nhật phần mềm")
        assert page.locator("svg.versions rect").count() == 2  # 0.1.0 and "not reported yet"
        assert page.locator(".waves li").count() == 3
        assert page.get_by_role("button", name="Huỷ lần cập nhật này").is_visible()
        assert unlabelled(page) == []
        assert no_sideways_scroll(page)
        shot(page, f"{viewport}-updates")
        page.context.close()
