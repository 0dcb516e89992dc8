"""`/api/v1/areas`: the tree over REST, its refusals as stable JSON codes, and devices in new villages."""

from typing import Any

from flask.testing import FlaskClient

from tests.web.conftest import Runtime

ADMIN = "admin"


def _post(client: FlaskClient, runtime: Runtime, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = client.post("/api/v1/areas", json=body, headers=runtime.auth(ADMIN))
    return answer.status_code, answer.json or {}


def test_the_seeded_commune_sits_in_its_province(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.get("/api/v1/areas", headers=runtime.auth(ADMIN))
    assert answer.status_code == 200
    by_code = {item["code"]: item for item in answer.json["items"]}
    assert by_code["15"]["level"] == "province" and by_code["140"]["parent"] == "15"
    assert by_code["04630"]["parent"] == "140"
    assert by_code["ban-lim"]["parent"] == "04630" and by_code["ban-lim"]["languages"] == ["vi", "thai"]


def test_create_rename_move_retire_and_a_device_in_the_new_village(
    client: FlaskClient, runtime: Runtime
) -> None:
    status, body = _post(
        client, runtime, {"code": "04631", "name": "Xã Mới", "level": "commune", "parent": "140"}
    )
    assert status == 201 and body["code"] == "04631"
    village = {"code": "04631-a", "name": "Bản A", "level": "village", "parent": "04631"}
    status, body = _post(client, runtime, {**village, "languages": ["vi", "mong"]})
    assert status == 201 and body["languages"] == ["vi", "mong"]
    answer = client.patch(
        "/api/v1/areas/04631-a", json={"name": "Bản Á", "parent": "04630"}, headers=runtime.auth(ADMIN)
    )
    assert answer.status_code == 200 and answer.json["name"] == "Bản Á" and answer.json["parent"] == "04630"
    answer = client.post(
        "/api/v1/devices", json={"id": "tule-c40", "name": "Cụm Á", "village": "04631-a"},
        headers=runtime.auth(ADMIN),
    )  # fmt: skip
    assert answer.status_code == 201, answer.json
    answer = client.post("/api/v1/areas/04631-a/retire", headers=runtime.auth(ADMIN))
    assert answer.status_code == 409 and answer.json["error"]["code"] == "area_in_use"
    assert "tule-c40" in answer.json["error"]["message"]
    answer = client.post("/api/v1/areas/04631/retire", headers=runtime.auth(ADMIN))
    assert answer.status_code == 200 and answer.json["retired"] is True


def test_bad_input_gets_a_stable_code_and_changes_nothing(client: FlaskClient, runtime: Runtime) -> None:
    before = client.get("/api/v1/areas", headers=runtime.auth(ADMIN)).json
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"code": "140", "name": "Trùng", "level": "district", "parent": "15"}, 409, "area_exists"),
        ({"code": "04639", "name": "Xã", "level": "commune", "parent": "15"}, 422, "area_level_mismatch"),
        ({"code": "0463", "name": "Xã", "level": "commune", "parent": "140"}, 422, "validation_failed"),
        ({"code": "04639", "name": "Xã", "level": "commune", "parent": "999"}, 404, "not_found"),
        ({"code": "c1", "name": "Cụm", "level": "cluster", "parent": "ban-lim"}, 422, "validation_failed"),
    ]
    for body, status, code in cases:
        got, refusal = _post(client, runtime, body)
        assert (got, refusal["error"]["code"]) == (status, code), refusal
    answer = client.patch("/api/v1/areas/15", json={"parent": "ban-lim"}, headers=runtime.auth(ADMIN))
    assert answer.status_code == 409 and answer.json["error"]["code"] == "area_cycle"
    assert "vòng" in answer.json["error"]["message"]
    # A rename with a refused move in the same request changes neither.
    answer = client.patch(
        "/api/v1/areas/ban-lim", json={"name": "Bản Đổi", "parent": "140"}, headers=runtime.auth(ADMIN)
    )
    assert answer.status_code == 422 and answer.json["error"]["code"] == "area_level_mismatch"
    answer = client.patch("/api/v1/areas/ban-lim", json={}, headers=runtime.auth(ADMIN))
    assert answer.status_code == 422
    answer = client.post("/api/v1/areas/ban-lim/retire", headers=runtime.auth(ADMIN))
    assert answer.status_code == 409 and "tule-c01" in answer.json["error"]["message"]
    assert client.get("/api/v1/areas", headers=runtime.auth(ADMIN)).json == before
