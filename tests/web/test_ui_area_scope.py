"""The HTML pages follow the signed-in user's area (DESIGN §11): a district's staff see, open and target only
what lies in their district; a commune's staff see what they saw before areas existed.

The seeded commune Tú Lệ (tule, 04630) lies in Văn Chấn (140), Yên Bái (15). The tests add its neighbour
Nậm Lành (04631) in the same district and Bản Công (04700) in the neighbouring district Trạm Tấu (141), one
cluster each, staff of both districts, and a pending bulletin from each district.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from controller import services
from controller.services.areas import create_area
from protocol import Event
from protocol.messages import EventType
from tests.web.conftest import NOW, PASSWORD, Runtime
from tests.web.ui_support import post, sign_in


@dataclass(frozen=True)
class Districts:
    """The ids of the pending bulletins of Văn Chấn (ours) and Trạm Tấu (theirs)."""

    ours: int
    theirs: int


@pytest.fixture
def districts(runtime: Runtime) -> Districts:
    """Two districts with their communes, clusters and staff, and a pending bulletin from each district."""
    with runtime.db.session() as session:
        create_area(session, NOW, code="04631", name="Xã Nậm Lành", level="commune", parent="140")
        create_area(session, NOW, code="04631-ban", name="Bản Nậm", level="village", parent="04631")
        services.provision_device(session, "namlanh-c01", NOW, name="Cụm Nậm Lành", village_id="04631-ban")
        create_area(session, NOW, code="141", name="Huyện Trạm Tấu", level="district", parent="15")
        create_area(session, NOW, code="04700", name="Xã Bản Công", level="commune", parent="141")
        create_area(session, NOW, code="04700-ban", name="Bản Công", level="village", parent="04700")
        services.provision_device(session, "bancong-c01", NOW, name="Cụm Bản Công", village_id="04700-ban")
        for username, role, area in (
            ("huyen-boss", "approver", "140"),
            ("huyen-admin", "admin", "140"),
            ("tramtau-boss", "approver", "141"),
        ):
            services.create_user(session, username, PASSWORD, role, NOW, area=area)
        ids = []
        for username, area, title in (
            ("huyen-op", "140", "Lịch tiêm phòng của huyện Văn Chấn"),
            ("tramtau-op", "141", "Lịch tiêm phòng của huyện Trạm Tấu"),
        ):
            author = services.create_user(session, username, PASSWORD, "operator", NOW, area=area)
            view = services.create_bulletin(
                session, author, NOW, title=title, text="Mời bà con đưa trẻ đi tiêm.", targets={"all": True}
            )
            services.submit(session, view.id, author, NOW)
            ids.append(view.id)
        return Districts(ours=ids[0], theirs=ids[1])


def test_a_district_sees_and_opens_only_its_own_bulletins(client: FlaskClient, districts: Districts) -> None:
    sign_in(client, "huyen-boss")
    for path in ("/bulletins", "/bulletins?status=pending", "/approvals"):
        page = client.get(path).get_data(as_text=True)
        assert "huyện Văn Chấn" in page, path
        assert "huyện Trạm Tấu" not in page, path
    assert client.get(f"/bulletins/{districts.ours}").status_code == 200
    assert 'aria-label="1 bản tin đang chờ"' in client.get("/approvals").get_data(as_text=True)  # the header
    for path in (f"/bulletins/{districts.theirs}", f"/bulletins/{districts.theirs}/listen"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Không tìm thấy" in answer.get_data(as_text=True)
    refused = post(client, f"/bulletins/{districts.theirs}/approve", {})
    assert refused.status_code == 404
    assert "Không tìm thấy" in refused.get_data(as_text=True)


def test_a_district_sees_and_opens_only_its_own_clusters(client: FlaskClient, districts: Districts) -> None:
    sign_in(client, "huyen-admin")
    board = client.get("/devices").get_data(as_text=True)
    assert "Xã Nậm Lành" in board and "Xã Tú Lệ" in board and "Xã Bản Công" not in board
    assert "bancong-c01" not in client.get("/devices?xa=04700").get_data(as_text=True)
    assert "Cụm Nậm Lành" in client.get("/devices/namlanh-c01").get_data(as_text=True)
    answer = client.get("/devices/bancong-c01")
    assert answer.status_code == 404 and "Không tìm thấy" in answer.get_data(as_text=True)
    assert post(client, "/devices/bancong-c01/cmd", {"command": "stop"}).status_code == 404


def test_a_districts_forms_offer_only_its_areas(client: FlaskClient, districts: Districts) -> None:
    sign_in(client, "huyen-op")
    compose = client.get("/compose").get_data(as_text=True)
    sign_in(client, "huyen-boss")
    emergency = client.get("/emergency").get_data(as_text=True)
    for page in (compose, emergency):
        assert 'name="areas" value="04630"' in page and 'name="areas" value="04631"' in page
        assert 'value="04700"' not in page and 'value="141"' not in page
        assert "Toàn địa bàn (13 cụm loa)" in page  # Tú Lệ's 12 and Nậm Lành's one
        assert 'name="villages"' not in page and 'name="clusters"' not in page


def test_a_district_cannot_target_outside_it(
    client: FlaskClient, runtime: Runtime, districts: Districts
) -> None:
    sign_in(client, "huyen-op")
    fields = {"title": "Họp dân", "text": "Mời bà con đi họp.", "schedule": "next_window"}
    refused = post(client, "/compose", {**fields, "target_mode": "areas", "areas": ["04631", "04700"]})
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "Không được phát tới 04700: nằm ngoài địa bàn 140 của bạn" in page
    assert 'name="areas" value="04631" checked' in page  # the form keeps what was picked
    sent = post(client, "/compose", {**fields, "target_mode": "areas", "areas": ["04631"]})
    assert sent.status_code == 302
    with runtime.db.session() as session:
        [mine] = [b for b in services.list_bulletins(session, limit=100) if b.title == "Họp dân"]
    assert (mine.status, mine.sender_area, mine.targets) == ("pending", "140", {"areas": ["04631"]})
    assert "Địa bàn: Xã Nậm Lành" in client.get(sent.headers["Location"]).get_data(as_text=True)

    sign_in(client, "huyen-boss")
    emergency = {"title": "Lũ quét", "text": "Di dời ngay.", "target_mode": "areas", "areas": ["04700"]}
    refused = post(client, "/emergency", emergency)
    assert refused.status_code == 403
    assert "nằm ngoài địa bàn 140 của bạn" in refused.get_data(as_text=True)
    with runtime.db.session() as session:
        assert "Lũ quét" not in {b.title for b in services.list_bulletins(session, limit=100)}


def test_a_communes_pages_are_as_before(client: FlaskClient, districts: Districts) -> None:
    sign_in(client, "operator")
    assert "huyện Văn Chấn" not in client.get("/bulletins").get_data(as_text=True)
    assert client.get(f"/bulletins/{districts.ours}").status_code == 404  # not in Tú Lệ's inbox (yet)
    compose = client.get("/compose").get_data(as_text=True)
    assert 'name="villages" value="ban-lim"' in compose and 'name="clusters" value="tule-c01"' in compose
    assert 'name="areas"' not in compose and "Tất cả thôn bản (12 cụm loa)" in compose
    assert "namlanh-c01" not in compose
    assert client.get("/devices/namlanh-c01").status_code == 404
    assert client.get("/devices/tule-c01").status_code == 200


def _played(runtime: Runtime, bulletin_id: int, device_id: str) -> None:
    """The device played the bulletin an hour ago, as its agent reports it."""
    start = NOW - timedelta(hours=1)
    with runtime.db.session() as db:
        services.plan_delivery(
            db,
            NOW,
            bulletin_id=bulletin_id,
            device_id=device_id,
            item_id=f"{bulletin_id}-vi",
            planned_start=start,
        )
        steps: tuple[tuple[int, EventType], ...] = ((0, "started"), (2, "finished"))
        for offset, kind in steps:
            event = Event(
                seq=10 + offset,
                type=kind,
                at=start + timedelta(minutes=offset),
                boot_id="b1",
                item_id=f"{bulletin_id}-vi",
                bulletin_id=bulletin_id,
            )
            services.record_event(db, device_id, event, event.at)


def test_a_districts_as_run_log_holds_only_its_clusters(
    client: FlaskClient, runtime: Runtime, districts: Districts
) -> None:
    _played(runtime, districts.ours, "namlanh-c01")
    _played(runtime, districts.theirs, "bancong-c01")
    sign_in(client, "huyen-boss")
    page = client.get("/plays").get_data(as_text=True)
    assert "1 lượt phát" in page and f"#{districts.ours}" in page and f"#{districts.theirs}" not in page
    assert "0 lượt phát" in client.get("/plays?device=bancong-c01").get_data(as_text=True)
    sign_in(client, "tramtau-boss")
    assert f"#{districts.theirs}" in client.get("/plays").get_data(as_text=True)


def test_a_districts_village_lists_hold_only_its_villages(client: FlaskClient, districts: Districts) -> None:
    sign_in(client, "huyen-admin")
    for path in ("/drills", "/devices/new", "/devices/namlanh-c01", "/live"):
        page = client.get(path).get_data(as_text=True)
        assert 'value="04631-ban"' in page and 'value="ban-lim"' in page, path
        assert 'value="04700-ban"' not in page, path
