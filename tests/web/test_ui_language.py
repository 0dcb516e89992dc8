"""No English reaches a page (issue 16): every GET page of the UI for each role, the error pages, and the
pages that show a refusal after a bad form, read through a detector of English words.

Routes are read from the app's URL map, so a page added later is crawled too; path parameters are filled
with a real bulletin (with history) and a real cluster.
"""

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.english import english_in_page
from tests.web.conftest import Runtime
from tests.web.ui_support import post, sign_in

ROLES = ("admin", "operator", "approver", "viewer")
# Pages that answer files, not HTML; the API answers JSON (tests/test_i18n.py covers its messages).
NOT_HTML = ("/plays.csv", "/reports.csv", "/static/", "/api/", "/apt/", "/metrics", "/listen")


def _pages(app: Flask, values: dict[str, object]) -> list[str]:
    adapter = app.url_map.bind("localhost")
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or any(part in rule.rule for part in NOT_HTML):
            continue
        if set(rule.arguments) <= set(values):
            paths.append(adapter.build(rule.endpoint, {name: values[name] for name in rule.arguments}))
    return sorted(set(paths))


def _bulletin_with_history(client: FlaskClient) -> int:
    sign_in(client, "operator")
    fields = {
        "title": "Tiêm phòng",
        "text": "Lịch tiêm phòng gia súc.",
        "priority": "normal",
        "target_mode": "all",
    }
    answer = post(client, "/compose", fields)
    assert answer.status_code == 302
    bulletin_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    sign_in(client, "approver")
    post(client, f"/bulletins/{bulletin_id}/reject", {"reason": "Thiếu giờ tiêm."})
    return bulletin_id


def test_no_page_shows_english_to_any_role(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _bulletin_with_history(client)
    app = client.application
    pages = _pages(app, {"bulletin_id": bulletin_id, "device_id": "tule-c01", "username": "viewer"})
    assert {"/devices", "/compose", f"/bulletins/{bulletin_id}", "/devices/tule-c01"} <= set(pages)
    found: dict[str, list[str]] = {}
    for role in ROLES:
        sign_in(client, role)
        for path in pages:
            answer = client.get(path)
            if answer.status_code in (301, 302):
                answer = client.get(answer.headers["Location"])
            if answer.mimetype != "text/html":  # feeds (XML) and audio; JSON messages: tests/test_i18n.py
                continue
            if problems := english_in_page(answer.get_data(as_text=True)):
                found[f"{role} {path} ({answer.status_code})"] = problems
    assert not found, found


def test_error_pages_and_refusals_after_bad_forms_are_vietnamese(client: FlaskClient) -> None:
    seen: dict[str, str] = {}

    def shown(name: str, answer: TestResponse) -> None:
        # Follow a redirect at once: the next page rendered (even the CSRF fetch) consumes the flashes.
        if answer.status_code in (301, 302):
            answer = client.get(answer.headers["Location"])
        seen[f"{name} ({answer.status_code})"] = answer.get_data(as_text=True)

    sign_in(client, "admin")
    shown("missing device", client.get("/devices/tule-c99"))
    shown("missing bulletin", client.get("/bulletins/999999"))
    shown("bad user", post(client, "/users", {"username": "Bad Name", "password": "x", "role": "chief"}))
    shown("empty compose", post(client, "/compose", {"title": "", "text": "", "target_mode": "villages"}))
    shown("bad volume", post(client, "/devices/tule-c01/cmd", {"command": "set_volume", "volume": "300"}))
    shown("bad command", post(client, "/devices/tule-c01/cmd", {"command": "explode"}))
    shown("stale form", post(client, "/compose", {"title": "x"}, token="forged"))
    sign_in(client, "viewer")
    shown("forbidden", post(client, "/compose", {"title": "Tin", "text": "Nội dung", "target_mode": "all"}))
    assert "Âm lượng phải là số từ 0 đến 100" in seen["bad volume (200)"]
    found = {name: problems for name, page in seen.items() if (problems := english_in_page(page))}
    assert not found, found


def test_the_api_answers_in_the_language_asked_for(client: FlaskClient, runtime: Runtime) -> None:
    viewer = runtime.auth("viewer")
    for language, english in (("vi", False), ("vi-VN,vi;q=0.9,en;q=0.5", False), ("en", True), (None, False)):
        headers = dict(viewer, **({"Accept-Language": language} if language else {}))
        missing = client.get("/api/v1/bulletins/999999", headers=headers)
        bad = client.get("/api/v1/bulletins?status=aproved", headers=headers)
        unsigned = client.get("/api/v1/bulletins", headers={"Accept-Language": language or ""})
        nowhere = client.get("/api/v1/no-such-thing", headers=headers)
        answers = ((missing, "not_found"), (bad, "validation_failed"), (unsigned, "unauthorized"))
        for answer, code in (*answers, (nowhere, "not_found")):
            error = answer.json["error"]
            assert error["code"] == code
            assert bool(english_in_page(f"<p>{error['message']}</p>")) == english, (language, error)
