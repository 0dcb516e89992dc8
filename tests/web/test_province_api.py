"""A province over REST (DESIGN §8, §11): scoped targets, the inbox, statistics, and user administration.

The seeded commune Tú Lệ (04630) lies in Văn Chấn (140), Yên Bái (15); the tests add its neighbour Nậm
Lành (04631) with one cluster, and province staff.
"""

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from controller import services
from controller.services import user_admin
from controller.services.areas import create_area
from tests.web.conftest import NOW, PASSWORD, TOKEN_TTL, Runtime

NEIGHBOUR = "04631"


@pytest.fixture
def province(runtime: Runtime) -> Runtime:
    """Nậm Lành next to Tú Lệ, and province staff with tokens."""
    with runtime.db.session() as session:
        create_area(session, NOW, code=NEIGHBOUR, name="Xã Nậm Lành", level="commune", parent="140")
        create_area(session, NOW, code="04631-ban", name="Bản Nậm", level="village", parent=NEIGHBOUR)
        services.provision_device(session, "namlanh-c01", NOW, name="Cụm 1", village_id="04631-ban")
        for username, role, area in (
            ("tinh-op", "operator", "15"),
            ("tinh-boss", "approver", "15"),
            ("tinh-admin", "admin", "15"),
            ("namlanh-op", "operator", NEIGHBOUR),
        ):
            user = services.create_user(session, username, PASSWORD, role, NOW, area=area)
            runtime.tokens[username] = services.issue_token(session, user, NOW, TOKEN_TTL)
    return runtime


def _bulletin(targets: object, priority: str = "normal") -> dict[str, object]:
    return {
        "title": "Thông báo",
        "text": "Nội dung thông báo của tỉnh.",
        "priority": priority,
        "targets": targets,
    }


def test_targeting_outside_ones_area_is_refused_naming_what(client: FlaskClient, province: Runtime) -> None:
    answer = client.post(
        "/api/v1/bulletins", json=_bulletin({"villages": ["ban-lim", "04631-ban"]}),
        headers=province.auth("operator"),
    )  # fmt: skip
    assert answer.status_code == 403
    error = answer.json["error"]
    assert error["code"] == "target_out_of_scope"
    assert error["fields"] == {"targets": ["04631-ban"]}
    assert "04631-ban" in error["message"] and "ngoài địa bàn 04630" in error["message"]
    answer = client.post(
        "/api/v1/bulletins", json=_bulletin({"areas": ["88888"]}), headers=province.auth("tinh-op")
    )
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "unknown_target")


def test_a_neighbours_bulletins_look_like_none(client: FlaskClient, province: Runtime) -> None:
    created = client.post(
        "/api/v1/bulletins", json=_bulletin({"all": True}), headers=province.auth("namlanh-op")
    )
    assert created.status_code == 201
    bulletin_id = created.json["id"]
    assert (
        client.get(f"/api/v1/bulletins/{bulletin_id}", headers=province.auth("operator")).status_code == 404
    )
    listed = client.get("/api/v1/bulletins", headers=province.auth("operator")).json["items"]
    assert bulletin_id not in {b["id"] for b in listed}
    listed = client.get("/api/v1/bulletins", headers=province.auth("tinh-op")).json["items"]
    assert bulletin_id in {b["id"] for b in listed}


def test_a_province_bulletin_through_the_inboxes(client: FlaskClient, province: Runtime) -> None:
    created = client.post(
        "/api/v1/bulletins", json=_bulletin({"all": True}), headers=province.auth("tinh-op")
    ).json
    assert (
        client.post(f"/api/v1/bulletins/{created['id']}/submit", headers=province.auth("tinh-op")).status_code
        == 200
    )
    refused = client.post(f"/api/v1/bulletins/{created['id']}/approve", headers=province.auth("approver"))
    assert refused.status_code == 404  # a commune does not see the province's pending bulletins
    assert (
        client.post(
            f"/api/v1/bulletins/{created['id']}/approve", headers=province.auth("tinh-boss")
        ).status_code
        == 200
    )

    [mine] = client.get("/api/v1/inbox", headers=province.auth("operator")).json["items"]
    assert (mine["commune_id"], mine["state"], mine["title"]) == ("tule", "waiting", "Thông báo")
    [theirs] = client.get("/api/v1/inbox", headers=province.auth("namlanh-op")).json["items"]
    no_reason = client.post(
        f"/api/v1/inbox/{theirs['id']}/decline", json={}, headers=province.auth("namlanh-op")
    )
    assert (no_reason.status_code, no_reason.json["error"]["code"]) == (422, "reason_required")
    declined = client.post(
        f"/api/v1/inbox/{theirs['id']}/decline",
        json={"reason": "Xã đang họp"},
        headers=province.auth("namlanh-op"),
    )
    assert declined.status_code == 200 and declined.json["state"] == "declined"
    neighbours = client.post(f"/api/v1/inbox/{theirs['id']}/schedule", headers=province.auth("operator"))
    assert neighbours.status_code == 404
    assert (
        client.post(f"/api/v1/inbox/{mine['id']}/schedule", headers=province.auth("operator")).status_code
        == 200
    )
    assert created["id"] in province.changed

    outcomes = client.get(
        f"/api/v1/bulletins/{created['id']}/communes", headers=province.auth("tinh-op")
    ).json
    assert [(o["commune_id"], o["state"], o["reason"]) for o in outcomes["items"]] == [
        ("04631", "declined", "Xã đang họp"),
        ("tule", "scheduled", None),
    ]


def test_statistics_as_json_and_csv_within_ones_area(client: FlaskClient, province: Runtime) -> None:
    period = f"from={(NOW - timedelta(days=1)).isoformat()}&to={NOW.isoformat()}".replace("+", "%2B")
    answer = client.get(f"/api/v1/stats?area=140&{period}", headers=province.auth("tinh-op"))
    assert answer.status_code == 200
    assert [c["commune_id"] for c in answer.json["communes"]] == ["04631", "tule"]
    assert len(answer.json["clusters"]) == 13
    csv = client.get(
        f"/api/v1/stats?area=140&table=communes&{period}",
        headers={**province.auth("tinh-op"), "Accept": "text/csv"},
    )
    assert csv.mimetype == "text/csv"
    assert csv.text.splitlines()[0] == "commune_id,name,clusters,plays,airtime_s,availability,outages"
    refused = client.get(f"/api/v1/stats?area={NEIGHBOUR}&{period}", headers=province.auth("operator"))
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "out_of_scope")
    unknown = client.get(f"/api/v1/stats?area=77777&{period}", headers=province.auth("tinh-op"))
    assert unknown.status_code == 404
    empty = f"from={NOW.isoformat()}&to={NOW.isoformat()}".replace("+", "%2B")
    reversed_period = client.get(f"/api/v1/stats?{empty}", headers=province.auth("tinh-op"))
    assert reversed_period.status_code == 422


def test_admins_manage_users_under_their_area(client: FlaskClient, province: Runtime) -> None:
    body = {"username": "lan", "password": "mật-khẩu-dài", "role": "operator"}
    made = client.post("/api/v1/users", json=body, headers=province.auth("admin"))
    assert made.status_code == 201 and made.json["area"] == "04630"
    outside = client.post(
        "/api/v1/users", json={**body, "username": "mai", "area": "15"}, headers=province.auth("admin")
    )
    assert (outside.status_code, outside.json["error"]["code"]) == (403, "out_of_scope")
    listed = {
        u["username"] for u in client.get("/api/v1/users", headers=province.auth("admin")).json["items"]
    }
    assert "lan" in listed and "namlanh-op" not in listed and "tinh-op" not in listed

    with province.db.session() as session:
        neighbour_id = user_admin.user_id_of(session, "namlanh-op")
    assert (
        client.patch(
            f"/api/v1/users/{neighbour_id}", json={"role": "viewer"}, headers=province.auth("admin")
        ).status_code
        == 404
    )
    changed = client.patch(
        f"/api/v1/users/{made.json['id']}",
        json={"role": "approver", "active": False},
        headers=province.auth("admin"),
    )
    assert (changed.json["role"], changed.json["active"]) == ("approver", False)
    client.patch(f"/api/v1/users/{made.json['id']}", json={"active": True}, headers=province.auth("admin"))

    reset = client.post(f"/api/v1/users/{made.json['id']}/reset", headers=province.auth("admin"))
    assert reset.status_code == 201
    redeem = {"username": "lan", "code": reset.json["code"], "new_password": "mật-khẩu-mới-dài"}
    assert client.post("/api/v1/users/reset", json=redeem).status_code == 200
    again = client.post("/api/v1/users/reset", json=redeem)
    assert (again.status_code, again.json["error"]["code"]) == (401, "authentication_failed")
    token = client.post("/api/v1/auth/token", json={"username": "lan", "password": "mật-khẩu-mới-dài"}).json[
        "token"
    ]
    mine = {"Authorization": f"Bearer {token}"}
    wrong = client.post(
        "/api/v1/users/me/password",
        json={"old_password": "sai", "new_password": "mật-khẩu-ba-dài"},
        headers=mine,
    )
    assert (wrong.status_code, wrong.json["error"]["code"]) == (422, "wrong_password")
    ok = client.post(
        "/api/v1/users/me/password",
        json={"old_password": "mật-khẩu-mới-dài", "new_password": "mật-khẩu-ba-dài"},
        headers=mine,
    )
    assert ok.status_code == 200
    assert client.get("/api/v1/bulletins", headers=mine).status_code == 401  # signed out everywhere
