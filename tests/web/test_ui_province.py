"""The UI for a province (DESIGN §11): staff above a commune see one row per commune, the commune decides
on a bulletin from above in its inbox, the sender reads the outcome, admins manage users under their area."""

from flask.testing import FlaskClient

from controller import services
from controller.services import inbox
from controller.services.areas import create_area
from controller.services.scope import area_scope
from tests.web.conftest import NOW, PASSWORD, Runtime
from tests.web.ui_support import post, sign_in


def _province(runtime: Runtime) -> int:
    """Nậm Lành next to Tú Lệ, province staff, and a province bulletin approved into both inboxes."""
    with runtime.db.session() as session:
        create_area(session, NOW, code="04631", name="Xã Nậm Lành", level="commune", parent="140")
        create_area(session, NOW, code="04631-ban", name="Bản Nậm", level="village", parent="04631")
        services.provision_device(session, "namlanh-c01", NOW, name="Cụm 1", village_id="04631-ban")
        author = services.create_user(session, "tinh-op", PASSWORD, "operator", NOW, area="15")
        boss = services.create_user(session, "tinh-boss", PASSWORD, "approver", NOW, area="15")
        services.create_user(session, "tinh-admin", PASSWORD, "admin", NOW, area="15")
        view = services.create_bulletin(
            session,
            author,
            NOW,
            title="Phòng chống rét",
            text="Tỉnh thông báo về rét đậm.",
            targets={"all": True},
        )
        services.submit(session, view.id, author, NOW)
        services.approve(session, view.id, boss, NOW)
        return view.id


def test_a_commune_declines_and_the_province_reads_why(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _province(runtime)
    sign_in(client, "operator")
    page = client.get("/hop-thu").get_data(as_text=True)
    assert "Phòng chống rét" in page and "Chờ xã xếp lịch" in page
    with runtime.db.session() as session:
        [entry] = [i.id for i in inbox.list_inbox(session, area_scope(session, "04630"))]
    refused = post(client, f"/hop-thu/{entry}", {"action": "decline", "reason": ""})
    assert refused.status_code == 302
    assert "Hãy ghi lý do từ chối" in client.get("/hop-thu").get_data(as_text=True)
    post(client, f"/hop-thu/{entry}", {"action": "decline", "reason": "Xã đang bầu cử"})
    client.post("/logout", data={})

    sign_in(client, "tinh-op")
    page = client.get(f"/ban-tin/{bulletin_id}/cac-xa").get_data(as_text=True)
    assert "Xã từ chối" in page and "Xã đang bầu cử" in page and "Chờ xã xếp lịch" in page


def test_staff_above_a_commune_see_one_row_per_commune(client: FlaskClient, runtime: Runtime) -> None:
    _province(runtime)
    sign_in(client, "tinh-admin")
    devices = client.get("/devices").get_data(as_text=True)
    assert "Thiết bị theo xã" in devices and "Xã Nậm Lành" in devices and "Huyện Văn Chấn" in devices
    commune = client.get("/devices?xa=04631").get_data(as_text=True)
    assert "namlanh-c01" in commune and "tule-c01" not in commune
    assert client.get("/schedule").status_code == 200
    assert "Xã Nậm Lành" in client.get("/thong-ke").get_data(as_text=True)
    report = client.get("/reports").get_data(as_text=True)
    assert "Xã Nậm Lành" in report and "Xã Tú Lệ" in report
    users = client.get("/users").get_data(as_text=True)
    assert "tinh-op" in users and "operator" in users
    answer = post(client, "/users/operator/reset", {})
    assert answer.status_code == 302
    assert "Mã đặt lại mật khẩu của operator" in client.get("/users").get_data(as_text=True)
