"""Sign-in throttling: 5 failures lock a username, 20 an address; 429 with Retry-After; audited."""

from datetime import timedelta

from flask.testing import FlaskClient

from controller import services
from tests.web.conftest import NOW, PASSWORD, Runtime
from web.api.auth import _MAX_TRACKED, LoginThrottle

TOKEN = "/api/v1/auth/token"


def _sign_in(client: FlaskClient, username: str, password: str, address: str = "10.0.0.7") -> int:
    answer = client.post(
        TOKEN, json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )
    return answer.status_code


def test_five_failures_lock_the_username_for_fifteen_minutes(client: FlaskClient, runtime: Runtime) -> None:
    assert [_sign_in(client, "operator", "wrong-password") for _ in range(5)] == [401] * 5
    locked = client.post(TOKEN, json={"username": "operator", "password": PASSWORD})
    assert locked.status_code == 429, "even the right password waits out the lock"
    assert locked.json["error"]["code"] == "too_many_attempts"
    assert "Hãy thử lại sau 15 phút" in locked.json["error"]["message"]
    assert locked.headers["Retry-After"] == "900"
    assert _sign_in(client, "approver", PASSWORD) == 200, "other accounts are not affected"
    runtime.now += timedelta(minutes=15)
    assert _sign_in(client, "operator", PASSWORD) == 200
    with runtime.db.session() as session:
        actions = [e.action for e in services.list_audit(session, entity="user", entity_id="operator")]
    assert actions.count("auth.failed") == 5
    assert actions.count("auth.locked") == 1


def test_success_resets_the_username_count(client: FlaskClient) -> None:
    for _ in range(3):
        assert [_sign_in(client, "operator", "wrong-password") for _ in range(4)] == [401] * 4
        assert _sign_in(client, "operator", PASSWORD) == 200


def test_twenty_failures_from_one_address_lock_the_address(client: FlaskClient) -> None:
    for index in range(20):
        assert _sign_in(client, f"guess{index}", "wrong-password", "192.0.2.9") == 401
    assert _sign_in(client, "operator", PASSWORD, "192.0.2.9") == 429
    assert _sign_in(client, "operator", PASSWORD, "192.0.2.10") == 200


def test_unknown_usernames_are_throttled_like_known_ones(client: FlaskClient) -> None:
    statuses = [_sign_in(client, "nobody", "wrong-password") for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_the_throttle_forgets_the_oldest_under_a_flood() -> None:
    throttle = LoginThrottle()
    for index in range(_MAX_TRACKED + 2):
        throttle.failed([("user", f"u{index}")], NOW + timedelta(seconds=index / 1000))
    assert len(throttle._failures) <= _MAX_TRACKED // 2 + 1
    locked = throttle.failed([("user", "victim")] * 5, NOW + timedelta(seconds=30))
    assert locked == [("user", "victim")]
    assert throttle.retry_after([("user", "victim")], NOW + timedelta(minutes=1)) is not None
