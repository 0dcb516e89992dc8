"""The "Phát trực tiếp" page (issue 13, item 3) in headless Chromium.

With Chromium's fake microphone (a beeping tone) on http://127.0.0.1 (a secure context), the page goes
live through the real controller (managed Icecast, mosquitto) to a real agent, whose file sink receives
the audio; ending from the page stops it. Without microphone permission the page says so in Vietnamese
and keeps the button. A district's approver, on a 390 px phone, picks villages from lists grouped by
commune, only those of the district, and the page asks for exactly those.
"""

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.edge_agent.streams import aired
from tests.integration.conftest import DEMO_PASSWORD, deployed, wait_for
from tests.integration.test_live import both_sinks, online
from tests.ui.conftest import CHROMIUM, CHROMIUM_FLAGS, Live, open_page, shot, sign_in
from tests.web.conftest import PASSWORD
from tests.web.test_ui_area_scope import Districts, districts  # noqa: F401 (the fixture)


@pytest.fixture(scope="module")
def browser_with_microphone(browser: Browser) -> Iterator[Browser]:
    """Chromium with a fake audio device that pages may use without asking."""
    flags = [*CHROMIUM_FLAGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=flags)
    yield chromium
    chromium.close()


@pytest.mark.browser
def test_going_live_from_the_phone_page_reaches_an_agents_sink(
    browser_with_microphone: Browser, tmp_path: Path
) -> None:
    with deployed(tmp_path, opens_in_s=600, length_s=60) as deployment:
        home = deployment.start_agent("tule-c01")
        wait_for("online", partial(online, deployment, "tule-c01"), timeout=30)
        page = browser_with_microphone.new_context(
            viewport={"width": 360, "height": 740}, locale="vi-VN", permissions=["microphone"]
        ).new_page()
        page.set_default_timeout(30_000)
        sign_in(page, deployment.api.base, "approver", DEMO_PASSWORD)
        page.goto(f"{deployment.api.base}/live")
        page.get_by_label("Nội dung phát").fill("Họp thôn tối nay")
        page.get_by_role("button", name="Bắt đầu phát trực tiếp").click()
        page.get_by_text("ĐANG PHÁT TRỰC TIẾP tới").wait_for()
        assert page.locator("#live-level").evaluate("m => m.value") >= 0
        shot(page, "live-on-air-phone")
        page.wait_for_timeout(4000)  # a few seconds of the fake microphone on the agent
        page.get_by_role("button", name="Kết thúc phát").click()
        page.get_by_text("Phiên đã kết thúc. Bản ghi được lưu.").wait_for()
        _, sessions = deployment.api.call("GET", "/live", user="operator")
        [done] = sessions["items"]
        assert (done["state"], done["end_reason"], done["title"]) == ("ended", "ended", "Họp thôn tối nay")
        assert done["recording_url"] is not None
        [entry] = wait_for(
            "the sink", lambda: both_sinks({"tule-c01": home}, done["id"]), timeout=30
        ).values()
        assert any(aired(home / "played" / entry["file"])), "the agent aired only silence"
        page.goto(f"{deployment.api.base}/live/archive")
        assert page.locator("audio").count() == 1


@pytest.fixture(scope="module")
def browser_asking_for_the_microphone(browser: Browser) -> Iterator[Browser]:
    """Chromium with a fake audio device whose permission prompt nobody answers (headless: refused)."""
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, "--use-fake-device-for-media-stream"]
    )
    yield chromium
    chromium.close()


@pytest.mark.browser
def test_a_missing_or_refused_microphone_is_explained_and_the_button_stays(
    browser: Browser, browser_asking_for_the_microphone: Browser, live: Live
) -> None:
    for chromium, said in (
        (browser, "Không tìm thấy micro dùng được. Hãy cắm micro"),
        (browser_asking_for_the_microphone, "Micro bị chặn. Hãy cho phép trang này dùng micro"),
    ):
        page = open_page(chromium, "phone")
        sign_in(page, live.base, "approver", PASSWORD)
        page.goto(f"{live.base}/live")
        # A commune's approver: one commune, its list open.
        assert page.locator("#live-villages details[open] summary").inner_text().split() == [
            "Xã", "Tú", "Lệ", "(9", "thôn", "bản)",
        ]  # fmt: skip
        button = page.get_by_role("button", name="Bắt đầu phát trực tiếp")
        button.click()
        page.get_by_text(said).wait_for()
        assert button.is_visible() and button.is_enabled()
        shot(page, "live-microphone-problem-phone")


@pytest.mark.browser
def test_a_district_picks_villages_grouped_by_commune_on_a_phone(
    browser_with_microphone: Browser,
    live: Live,
    districts: Districts,  # noqa: F811 (the fixture)
) -> None:
    page = browser_with_microphone.new_context(
        viewport={"width": 390, "height": 844}, locale="vi-VN", permissions=["microphone"]
    ).new_page()
    page.set_default_timeout(20_000)
    sign_in(page, live.base, "huyen-boss", PASSWORD)
    page.goto(f"{live.base}/live")
    groups = page.locator("#live-villages details.commune summary")
    assert [" ".join(text.split()) for text in groups.all_inner_texts()] == [
        "Xã Nậm Lành (1 thôn bản)",
        "Xã Tú Lệ (9 thôn bản)",
    ]
    assert page.get_by_text("Bản Công").count() == 0  # a commune of another district
    assert page.locator("#live-villages details[open]").count() == 0  # several communes: folded
    groups.filter(has_text="Xã Nậm Lành").click()
    page.get_by_label("Bản Nậm").check()
    groups.filter(has_text="Xã Tú Lệ").click()
    page.get_by_label("Bản Lìm").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    shot(page, "live-villages-by-commune-phone")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/live") and r.method == "POST") as asked:
        page.get_by_role("button", name="Bắt đầu phát trực tiếp").click()
    assert asked.value.post_data_json["targets"] == {"villages": ["04631-ban", "ban-lim"]}
    # This test app runs no streaming server: the page says so in Vietnamese and keeps the button.
    page.get_by_text("Máy chủ chưa bật phát trực tiếp").first.wait_for()
    expect(page.get_by_role("button", name="Bắt đầu phát trực tiếp")).to_be_enabled()
