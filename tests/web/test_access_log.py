"""The HTTP access log: one line per request, with the signed-in user, never the query string."""

import logging

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import Runtime


def test_each_request_is_logged_once_without_its_query_string(
    client: FlaskClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loaxa.access")
    assert client.get("/api/v1/devices?secret=s3cr3t", headers=runtime.auth("admin")).status_code == 200
    assert client.get("/api/v1/health").status_code == 200  # a monitor's poll: not logged
    assert client.get("/api/v1/bulletins/999999", headers=runtime.auth("operator")).status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "loaxa.access"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /api/v1/devices 200 ") and lines[0].endswith(
        "client=127.0.0.1 user=admin"
    )
    assert lines[1].startswith("GET /api/v1/bulletins/999999 404 ")
    assert all("s3cr3t" not in line for line in lines)
