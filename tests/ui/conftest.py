"""Headless Debian chromium driven by Playwright, the app served on loopback, and screenshot helpers.

Two ways to serve: `live` runs the web app alone over the seeded test database (fast: forms, labels,
keyboard), and the integration `deployment` runs the whole controller with real agents (flows end to end).
Screenshots go to test-artifacts/ui/ (gitignored), one per page and viewport.
"""

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

# Fixtures of the other suites, reused here: pytest finds fixtures a conftest imports.
from tests.integration.conftest import deployment  # noqa: F401
from tests.web.conftest import context, runtime, template_db  # noqa: F401
from web import WebContext, create_app

CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network (python.md): no background connections, no first-run, no sandbox as root.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One chromium for the whole session (each test opens its own contexts)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@dataclass
class Live:
    """The app on a loopback port."""

    base: str


@pytest.fixture
def live(context: WebContext) -> Iterator[Live]:  # noqa: F811 (the imported fixture)
    """The web app over the seeded test database, served by werkzeug in a thread."""
    with serve(context) as running:
        yield running


@contextlib.contextmanager
def serve(context: WebContext) -> Iterator[Live]:  # noqa: F811 (the imported fixture's name)
    """Serve the app built around `context` on a free loopback port while the block runs."""
    app = create_app(context)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(5)


def open_page(browser: Browser, viewport: str) -> Page:
    """A fresh browser context (own cookies) at the named viewport, in Vietnamese."""
    view = VIEWPORTS[viewport]
    ctx = browser.new_context(viewport={"width": view["width"], "height": view["height"]}, locale="vi-VN")
    ctx.set_default_timeout(20_000)  # the 2 CI cores also run the other worker's tests
    return ctx.new_page()


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/ui/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if page.evaluate("document.documentElement.scrollHeight > 2 * window.innerHeight"):
        page.screenshot(path=str(ARTIFACTS / f"{name}-top.png"))  # what the first screen shows
    return path


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    """Sign in through the login form with the keyboard: type, Tab to the button, Enter."""
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_label("Mật khẩu").press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Đăng nhập"
    with page.expect_navigation(timeout=30_000):  # the password hash is slow by design, more so under load
        page.keyboard.press("Enter")
    assert "/login" not in page.url, page.url


UNLABELLED_JS = """
() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'))
  .filter(el => {
    const text = el.tagName === 'BUTTON' ? el.textContent.trim() : '';
    return !(text || (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby'));
  })
  .map(el => el.outerHTML.slice(0, 120))
"""


def unlabelled(page: Page) -> list[str]:
    """Inputs, selects, textareas and buttons without an accessible name."""
    found: list[str] = page.evaluate(UNLABELLED_JS)
    return found


def no_sideways_scroll(page: Page) -> bool:
    """Whether the page fits the viewport's width (no horizontal scrolling of the whole page)."""
    fits: bool = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    return fits
