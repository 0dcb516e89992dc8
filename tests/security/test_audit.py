"""Every state change through the API leaves an audit entry naming who did it."""

from typing import Any

from flask.testing import FlaskClient

from controller import services
from tests.web.conftest import Runtime


def _audit_count(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return len(services.list_audit(session, limit=10_000))


def _changes(
    client: FlaskClient, runtime: Runtime, user: str, path: str, body: Any = None
) -> list[tuple[str | None, str]]:
    before = _audit_count(runtime)
    answer = client.post(path, json=body, headers=runtime.auth(user))
    assert answer.status_code < 400, answer.json
    with runtime.db.session() as session:
        entries = services.list_audit(session, limit=10_000)
    return [(e.actor, e.action) for e in entries[: len(entries) - before]]


def test_each_state_change_is_audited_with_its_actor(client: FlaskClient, runtime: Runtime) -> None:
    bulletin = {"title": "Họp thôn", "text": "Mời bà con họp lúc 8 giờ.", "targets": {"all": True}}
    created = _changes(client, runtime, "operator", "/api/v1/bulletins", bulletin)
    assert ("operator", "bulletin.create") in created
    assert ("operator", "api.bulletins.create") in created
    bulletin_id = client.get("/api/v1/bulletins", headers=runtime.auth("operator")).json["items"][0]["id"]
    steps = [
        ("operator", f"/api/v1/bulletins/{bulletin_id}/submit", None, "bulletins.submit"),
        ("approver", f"/api/v1/bulletins/{bulletin_id}/approve", None, "bulletins.approve"),
        ("admin", f"/api/v1/bulletins/{bulletin_id}/cancel", None, "bulletins.cancel"),
        (
            "admin",
            "/api/v1/devices",
            {"id": "tule-c99", "name": "Cụm mới", "village": "ban-lim"},
            "devices.provision",
        ),
        ("admin", "/api/v1/devices/tule-c01/cmd", {"command": "set_volume", "volume": 60}, "devices.command"),
        ("operator", "/api/v1/tts/preview", {"text": "xin chào"}, "tts.preview"),
    ]
    for user, path, body, endpoint in steps:
        assert (user, f"api.{endpoint}") in _changes(client, runtime, user, path, body), path
    with runtime.db.session() as session:
        actions = {(e.actor, e.action) for e in services.list_audit(session, limit=10_000)}
    assert {
        ("operator", "bulletin.submit"),
        ("approver", "bulletin.approve"),
        ("admin", "bulletin.cancel"),
    } <= actions
    assert ("admin", "device.provision") in actions


def test_refused_changes_leave_no_success_entry(client: FlaskClient, runtime: Runtime) -> None:
    before = _audit_count(runtime)
    answer = client.post(
        "/api/v1/devices/tule-c01/cmd", json={"command": "stop"}, headers=runtime.auth("viewer")
    )
    assert answer.status_code == 403
    assert _audit_count(runtime) == before
