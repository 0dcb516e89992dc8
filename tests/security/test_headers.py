"""Security headers, including a content security policy without inline scripts, on every kind of answer."""

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import Runtime

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


@pytest.mark.parametrize(
    "path", ["/", "/api/v1/health", "/api/v1/bulletins", "/api/v1/nope", "/api/v1/openapi.json"]
)
def test_headers_on_pages_api_and_errors(client: FlaskClient, path: str) -> None:
    answer = client.get(path)
    csp = answer.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_api_answers_are_not_cached_but_assets_are(client: FlaskClient, runtime: Runtime) -> None:
    listed = client.get("/api/v1/bulletins", headers=runtime.auth("viewer"))
    assert listed.headers["Cache-Control"] == "no-store"
    token = client.post("/api/v1/auth/token", json={"username": "viewer", "password": "demo-password-1"})
    assert token.headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_scripts_or_handlers() -> None:
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not inline_script.search(text), f"{template}: move the script into web/static (CSP)"
        assert not handler.search(text), f"{template}: use addEventListener in a static script (CSP)"
        assert "javascript:" not in text.lower(), f"{template}: javascript: URLs are blocked by the CSP"
