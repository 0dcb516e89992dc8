"""Helpers for the UI's test-client tests: sign in through the form and post forms with the CSRF token."""

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.conftest import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token the page at `path` carries in its forms."""
    page = client.get(path)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any], token: str | None = None) -> TestResponse:
    """POST a multipart form as the browser does, with the session's CSRF token unless one is given."""
    fields = {"csrf_token": token if token is not None else csrf(client, "/bulletins"), **data}
    return client.post(path, data=fields, content_type="multipart/form-data")


def sign_in(client: FlaskClient, username: str) -> None:
    """Sign in through the login form."""
    token = csrf(client, "/login")
    answer = client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": PASSWORD},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
