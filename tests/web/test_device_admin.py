"""Renaming, moving and revoking devices over HTTP: the changes, who may make them, and bad inputs."""

from flask.testing import FlaskClient

from controller import services
from tests.web.conftest import Runtime


def test_rename_and_move(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.patch(
        "/api/v1/devices/tule-c01",
        json={"name": "  Cụm loa   nhà văn hoá ", "village": "giang-cai"},
        headers=runtime.auth("admin"),
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["name"] == "Cụm loa nhà văn hoá"
    assert answer.json["village"] == "giang-cai"
    assert runtime.provisioned == ["tule-c01"]  # announced: the runtime re-plans for the new village
    with runtime.db.session() as session:
        audit = services.list_audit(session, entity="device", entity_id="tule-c01")
    assert audit[0].action == "device.update"
    assert audit[0].detail["village_before"] == "ban-lim"


def test_rename_and_move_bad_inputs(client: FlaskClient, runtime: Runtime) -> None:
    admin = runtime.auth("admin")
    unknown_village = client.patch("/api/v1/devices/tule-c01", json={"village": "ban-khong"}, headers=admin)
    assert unknown_village.status_code == 404
    assert unknown_village.json["error"]["code"] == "not_found"
    assert "Không có thôn/bản “ban-khong”" in unknown_village.json["error"]["message"]
    unknown_device = client.patch("/api/v1/devices/nope", json={"name": "x"}, headers=admin)
    assert unknown_device.status_code == 404
    empty = client.patch("/api/v1/devices/tule-c01", json={}, headers=admin)
    assert empty.status_code == 422
    assert "Không có gì để sửa" in empty.json["error"]["message"]
    blank = client.patch("/api/v1/devices/tule-c01", json={"name": "   "}, headers=admin)
    assert blank.status_code == 422
    assert "phải dài 1–200 ký tự" in blank.json["error"]["message"]
    extra = client.patch("/api/v1/devices/tule-c01", json={"speakers": 3}, headers=admin)
    assert extra.status_code == 422  # only name and village can change here
    forbidden = client.patch("/api/v1/devices/tule-c01", json={"name": "x"}, headers=runtime.auth("operator"))
    assert forbidden.status_code == 403
    assert runtime.provisioned == []
    assert client.get("/api/v1/devices/tule-c01", headers=admin).json["name"] != "x"


def test_revoke_takes_the_device_out_and_twice_is_a_conflict(client: FlaskClient, runtime: Runtime) -> None:
    admin = runtime.auth("admin")
    assert client.post("/api/v1/devices/tule-c02/revoke", headers=runtime.auth("operator")).status_code == 403
    answer = client.post("/api/v1/devices/tule-c02/revoke", headers=admin)
    assert answer.status_code == 200, answer.json
    assert answer.json["revoked_at"] == "2026-11-22T04:00:00Z"
    assert runtime.provisioned == ["tule-c02"]
    listed = [d["id"] for d in client.get("/api/v1/devices", headers=admin).json["items"]]
    assert "tule-c02" not in listed
    assert len(listed) == 11
    with runtime.db.session() as session:
        assert "tule-c02" not in {a.username for a in services.broker_accounts(session)}
        assert "tule-c02" not in services.device_villages(session)  # no more plans
    again = client.post("/api/v1/devices/tule-c02/revoke", headers=admin)
    assert again.status_code == 409
    assert "đã bị thu hồi" in again.json["error"]["message"]
    moved = client.patch("/api/v1/devices/tule-c02", json={"name": "y"}, headers=admin)
    assert moved.status_code == 409
    assert client.post("/api/v1/devices/nope/revoke", headers=admin).status_code == 404
    still = client.get("/api/v1/devices/tule-c02", headers=admin)
    assert still.status_code == 200  # its history stays readable
    assert runtime.provisioned == ["tule-c02"]
