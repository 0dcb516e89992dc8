"""Devices over HTTP: list, detail, provisioning (credentials once) and commands."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from controller import services
from protocol import Heartbeat
from tests.web.conftest import NOW, PUBLIC_KEY, Runtime
from web import WebContext, create_app


def _heartbeat(runtime: Runtime, device_id: str) -> None:
    """A heartbeat 5 s ago, an hour after the devices were provisioned."""
    runtime.now = NOW + timedelta(hours=1)
    received = runtime.now - timedelta(seconds=5)
    beat = Heartbeat(
        seq=1,
        boot_id="boot-1",
        uptime_s=600,
        sent_at=received,
        clock_synced=True,
        plan_version=3,
        assets_missing=0,
        amp_on=False,
        agent_version="0.1.0",
        cpu_temp_c=48.5,
    )
    with runtime.db.session() as session:
        services.record_heartbeat(session, device_id, beat, received)


def test_list_devices(client: FlaskClient, runtime: Runtime) -> None:
    _heartbeat(runtime, "tule-c01")
    answer = client.get("/api/v1/devices", headers=runtime.auth("viewer"))
    assert answer.status_code == 200
    items = answer.json["items"]
    assert len(items) == 12
    first = items[0]
    assert first["id"] == "tule-c01"
    assert first["village"] == "ban-lim"
    assert first["online"] is True
    assert first["last_seen"] == "2026-11-22T04:59:55Z"
    assert 0 < first["uptime_24h"] < 0.01  # 5 s of coverage in the hour since provisioning
    assert items[1]["online"] is False
    assert items[1]["last_seen"] is None


def test_device_detail_has_metrics_and_week_uptime(client: FlaskClient, runtime: Runtime) -> None:
    _heartbeat(runtime, "tule-c02")
    answer = client.get("/api/v1/devices/tule-c02", headers=runtime.auth("operator"))
    assert answer.status_code == 200
    assert answer.json["metrics"]["cpu_temp_c"] == 48.5
    assert answer.json["uptime_7d"] is not None
    assert client.get("/api/v1/devices/nope", headers=runtime.auth("operator")).status_code == 404


def test_provision_returns_credentials_once(client: FlaskClient, runtime: Runtime) -> None:
    body = {"id": "tule-c13", "name": "Cụm loa 13 – Bản Lìm", "village": "ban-lim", "speakers": 3}
    answer = client.post("/api/v1/devices", json=body, headers=runtime.auth("admin"))
    assert answer.status_code == 201, answer.json
    credentials = answer.json["credentials"]
    assert credentials["username"] == "tule-c13"
    assert credentials["public_keys"] == [PUBLIC_KEY]
    assert len(credentials["password"]) >= 16
    assert credentials["broker_url"] == "mqtt://127.0.0.1:1883"
    assert answer.json["device"]["speakers"] == 3
    assert runtime.provisioned == ["tule-c13"]
    again = client.get("/api/v1/devices/tule-c13", headers=runtime.auth("admin"))
    assert credentials["password"] not in again.get_data(as_text=True)
    duplicate = client.post("/api/v1/devices", json=body, headers=runtime.auth("admin"))
    assert duplicate.status_code == 409
    assert duplicate.json["error"]["code"] == "conflict"
    assert "tule-c13" in duplicate.json["error"]["message"]


def test_provision_is_admin_only_and_checked(client: FlaskClient, runtime: Runtime) -> None:
    body = {"id": "tule-c14", "name": "Cụm 14", "village": "ban-lim"}
    for user in ("viewer", "operator", "approver"):
        assert client.post("/api/v1/devices", json=body, headers=runtime.auth(user)).status_code == 403
    bad_village = client.post(
        "/api/v1/devices", json={**body, "village": "atlantis"}, headers=runtime.auth("admin")
    )
    assert bad_village.status_code == 404
    bad_id = client.post("/api/v1/devices", json={**body, "id": "Tule C14"}, headers=runtime.auth("admin"))
    assert bad_id.status_code == 422
    assert runtime.provisioned == []


def test_commands_go_to_the_runtime(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.post(
        "/api/v1/devices/tule-c03/cmd",
        json={"command": "set_volume", "volume": 70},
        headers=runtime.auth("admin"),
    )
    assert answer.status_code == 202
    assert answer.json == {"device": "tule-c03", "command": "set_volume", "status": "sent"}
    client.post("/api/v1/devices/tule-c03/cmd", json={"command": "stop"}, headers=runtime.auth("admin"))
    assert runtime.commands == [
        ("tule-c03", {"command": "set_volume", "volume": 70}),
        ("tule-c03", {"command": "stop"}),
    ]


def test_bad_commands_are_refused(client: FlaskClient, runtime: Runtime) -> None:
    admin = runtime.auth("admin")
    assert (
        client.post("/api/v1/devices/tule-c03/cmd", json={"command": "reboot"}, headers=admin).status_code
        == 422
    )
    no_volume = client.post("/api/v1/devices/tule-c03/cmd", json={"command": "set_volume"}, headers=admin)
    assert no_volume.status_code == 422
    assert "âm lượng (0–100) cần cho lệnh set_volume" in no_volume.json["error"]["message"]
    unknown = client.post("/api/v1/devices/nope/cmd", json={"command": "stop"}, headers=admin)
    assert unknown.status_code == 404
    operator = client.post(
        "/api/v1/devices/tule-c03/cmd", json={"command": "stop"}, headers=runtime.auth("operator")
    )
    assert operator.status_code == 403
    assert runtime.commands == []


def test_a_command_the_broker_does_not_take_is_503(context: WebContext, runtime: Runtime) -> None:
    def offline(device_id: str, command: Mapping[str, Any]) -> None:
        raise ConnectionError("not connected to the broker")

    client = create_app(replace(context, send_command=offline)).test_client()
    answer = client.post(
        "/api/v1/devices/tule-c03/cmd", json={"command": "resync"}, headers=runtime.auth("admin")
    )
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "broker_unavailable"
    assert "Hãy thử lại sau ít phút" in answer.json["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"command": "set_volume", "volume": True},
        {"command": "set_volume", "volume": "70"},
        {"command": "set_volume", "volume": 70.0},
        {"command": "test_tone", "duration_s": True},
    ],
)
def test_a_number_field_takes_only_a_json_number(
    client: FlaskClient, runtime: Runtime, body: dict[str, object]
) -> None:
    """`true` is not volume 1 (issue 20, item 15)."""
    answer = client.post("/api/v1/devices/tule-c03/cmd", json=body, headers=runtime.auth("admin"))
    assert answer.status_code == 422, answer.json
    assert runtime.commands == []


def test_speakers_take_only_a_json_number(client: FlaskClient, runtime: Runtime) -> None:
    body = {"id": "tule-c99", "name": "Cụm thử", "village": "ban-lim", "speakers": True}
    answer = client.post("/api/v1/devices", json=body, headers=runtime.auth("admin"))
    assert answer.status_code == 422, answer.json
