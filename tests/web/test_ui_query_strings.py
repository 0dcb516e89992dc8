"""Any query string a link can carry answers a page, never a 500 (issue 20, item 13)."""

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import Runtime
from tests.web.ui_support import sign_in

ODD = [
    "trang=99999999999999999999",
    "trang=-5",
    "trang=abc",
    "phut=99999999999999999",
    "phut=-1",
    "from=9999-12-31&to=9999-12-31",
    "from=0001-01-01&to=0001-01-01",
    "from=2026-01-01&to=9999-12-31",
    "month=9999-12",
    "month=0001-01",
    "month=10000-01",
    "bulletin=99999999999999999999999",
    "bulletin=-1",
]
PAGES = [
    *("/bulletins", "/devices", "/plays", "/plays.csv"),
    *("/reports", "/reports.csv", "/approvals", "/schedule"),
]


@pytest.mark.parametrize("path", PAGES)
def test_odd_query_strings_answer_the_page(client: FlaskClient, runtime: Runtime, path: str) -> None:
    sign_in(client, "admin")
    answers = {query: client.get(f"{path}?{query}").status_code for query in ODD}
    assert all(status < 500 for status in answers.values()), answers


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-12-31T00:00:00Z&to=9999-12-31T23:00:00Z",
        "from=0001-01-01T00:00:00Z",
        "limit=999999999999999999999",
        "offset=99999999999999999999999",
        "bulletin=99999999999999999999",
    ],
)
@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
def test_odd_api_query_strings_are_4xx_or_answered(
    client: FlaskClient, runtime: Runtime, query: str, accept: str
) -> None:
    for path in ("/api/v1/plays", "/api/v1/bulletins", "/api/v1/devices"):
        answer = client.get(f"{path}?{query}", headers={**runtime.auth("admin"), "Accept": accept})
        assert answer.status_code < 500, (path, answer.status_code)
