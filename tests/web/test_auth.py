"""Signing in and bearer tokens."""

from flask.testing import FlaskClient

from tests.web.conftest import PASSWORD, Runtime


def test_token_for_good_password_opens_the_api(client: FlaskClient) -> None:
    answer = client.post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD})
    assert answer.status_code == 200
    token = answer.json["token"]
    assert answer.json["expires_at"] == "2026-11-22T16:00:00Z"
    listed = client.get("/api/v1/bulletins", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200


def test_bad_password_is_401_json(client: FlaskClient) -> None:
    answer = client.post("/api/v1/auth/token", json={"username": "operator", "password": "wrong-password"})
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "authentication_failed"
    assert "Sai tên đăng nhập hoặc mật khẩu" in answer.json["error"]["message"]


def test_missing_token_is_401_with_how_to(client: FlaskClient) -> None:
    answer = client.get("/api/v1/bulletins")
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthorized"
    assert "POST /api/v1/auth/token" in answer.json["error"]["message"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(client: FlaskClient) -> None:
    answer = client.get("/api/v1/devices", headers={"Authorization": "Bearer not-a-token"})
    assert answer.status_code == 401
    assert "không còn hiệu lực" in answer.json["error"]["message"]


def test_health_needs_no_token(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "db": "ok", "mqtt": "connected", **runtime.health}
    runtime.health["db"] = "unreachable"
    degraded = client.get("/api/v1/health")
    assert degraded.status_code == 503
    assert degraded.json["status"] == "degraded"


def test_health_says_when_planning_leaves_bulletins_out(client: FlaskClient, runtime: Runtime) -> None:
    left_out = {"bulletin_id": 7, "reason": "OverflowError: date value out of range"}
    runtime.health["planning"] = {"state": "partial", "error": None, "left_out": [left_out]}
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200, "the API still works: a load balancer keeps this process"
    assert answer.json["status"] == "degraded"
    assert answer.json["planning"]["left_out"] == [left_out]
