"""Recording a bulletin in the browser: Chromium's fake microphone through MediaRecorder, then the real
loudness and encode path (ffmpeg) on what the browser recorded."""

from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Browser

from controller import services
from controller.dispatch import register_render
from controller.tts import render_recording
from tests.ui.conftest import CHROMIUM, CHROMIUM_FLAGS, serve, shot, sign_in
from tests.web.conftest import NOW, PASSWORD, Runtime
from web import WebContext


@pytest.fixture(scope="module")
def browser_with_microphone(browser: Browser) -> Iterator[Browser]:
    """Chromium with a fake audio device (a steady tone) that pages may use without asking.

    Launched through the session's Playwright (one sync Playwright per thread is all it allows).
    """
    flags = [*CHROMIUM_FLAGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=flags)
    yield chromium
    chromium.close()


@pytest.mark.browser
def test_a_recording_made_in_the_browser_is_submitted_and_normalized(
    browser_with_microphone: Browser, context: WebContext, runtime: Runtime
) -> None:
    stored: list[str] = []

    def store_recording(data: bytes, language: str) -> str:
        result = render_recording(data, language, runtime.store)  # the real ffmpeg path
        with runtime.db.session() as session:
            register_render(session, NOW, result, result.voice)
        stored.append(result.voice)
        return result.sha256

    with serve(replace(context, store_recording=store_recording)) as live:
        page = browser_with_microphone.new_context(
            viewport={"width": 360, "height": 740}, locale="vi-VN", permissions=["microphone"]
        ).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, live.base, "operator", PASSWORD)
        page.goto(f"{live.base}/compose")
        page.get_by_label("Tiêu đề").fill("Thông báo bằng tiếng Thái")
        page.get_by_label("Nội dung bản tin").fill("Bản ghi tiếng Thái về lịch tiêm phòng.")
        page.get_by_role("button", name="● Ghi âm").click()
        page.get_by_text("Đang ghi âm").wait_for()
        # The length of the recording, not a race with the clock: 2.5 s leaves a starved browser room above
        # the 0.5 s the controller requires.
        page.wait_for_timeout(2500)
        page.get_by_role("button", name="■ Dừng").click()
        page.get_by_text("Đã ghi xong").wait_for()
        page.get_by_label("Ngôn ngữ của bản ghi").select_option("thai")
        shot(page, "phone-compose-recorded")
        with page.expect_navigation():
            page.get_by_role("button", name="Gửi duyệt").click()
        page.get_by_text("Đã gửi bản tin đi duyệt.").wait_for()
        page.context.close()
    assert stored == ["thai"]
    with runtime.db.session() as session:
        bulletin = services.list_bulletins(session)[0]
    thai = [a for a in bulletin.audio if a.language == "thai"]
    assert bulletin.status == "pending" and thai and thai[0].kind == "recorded" and thai[0].duration_ms > 500


@pytest.fixture(scope="module")
def browser_on_a_lan_name(browser: Browser) -> Iterator[Browser]:
    """Chromium that resolves the LAN-like name loa.tule.lan to loopback: plain HTTP there is not a secure
    context (only https:// and the machine itself are), as on a commune's network."""
    flags = [*CHROMIUM_FLAGS, f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1"]
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=flags)
    yield chromium
    chromium.close()


LAN_NAME = "loa.tule.lan"


@pytest.mark.browser
def test_over_plain_http_on_a_lan_name_the_page_says_recording_needs_https(
    browser_on_a_lan_name: Browser, context: WebContext
) -> None:
    with serve(context) as live:
        base = live.base.replace("127.0.0.1", LAN_NAME)
        page = browser_on_a_lan_name.new_context(
            viewport={"width": 390, "height": 844}, locale="vi-VN"
        ).new_page()
        page.set_default_timeout(20_000)
        sign_in(page, base, "operator", PASSWORD)
        page.goto(f"{base}/compose")
        assert page.evaluate("window.isSecureContext") is False
        note = page.get_by_role("note")
        note.wait_for()
        text = note.inner_text()
        assert "HTTPS" in text and f"https://{LAN_NAME}" in text and "ứng dụng ghi âm của điện thoại" in text
        assert not page.get_by_role("button", name="● Ghi âm").is_visible()
        shot(page, "phone-compose-recorder-needs-https")
