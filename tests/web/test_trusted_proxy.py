"""Behind a reverse proxy (LOAXA_TRUSTED_PROXIES=1) sign-in lockouts count the real client, not the proxy;
without the setting, forwarded headers are ignored (anyone could write them).
"""

import dataclasses
import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.support.services import free_port
from tests.web.conftest import PASSWORD
from web.app import create_app
from web.context import WebContext
from web.server import WebServer

GUESSER, CITIZEN = "198.51.100.7", "203.0.113.9"
ADDRESS_LIMIT = 20


def _sign_in(port: int, username: str, password: str, client: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"content-type": "application/json", "x-forwarded-for": client},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


@pytest.fixture(params=[0, 1], ids=["direct", "behind-one-proxy"])
def server(request: pytest.FixtureRequest, context: WebContext) -> Iterator[tuple[int, int]]:
    proxies = int(request.param)
    settings = context.settings.model_copy(update={"trusted_proxies": proxies})
    web = WebServer(
        create_app(dataclasses.replace(context, settings=settings)),
        host="127.0.0.1",
        port=free_port(),
        trusted_proxies=proxies,
    )
    web.start()
    yield web.port, proxies
    web.stop()


def test_lockouts_count_the_forwarded_client_only_behind_a_trusted_proxy(server: tuple[int, int]) -> None:
    port, proxies = server
    for attempt in range(ADDRESS_LIMIT):  # a different username each time: only the address lock counts
        assert _sign_in(port, f"guess{attempt}", "wrong", GUESSER) == 401
    assert _sign_in(port, "guess-more", "wrong", GUESSER) == 429
    # Another citizen behind the same proxy signs in, unless forwarded addresses are not trusted (then
    # "X-Forwarded-For" is anyone's to write, and every request is the proxy's own address).
    assert _sign_in(port, "admin", PASSWORD, CITIZEN) == (200 if proxies else 429)
