"""The "Tiếp sóng" page, relay slots on the schedule, and the "Đang phát" card (issue 13, item 6), through
the Flask test client on a real database. Windows are Tú Lệ's 05:00–07:30 and 17:00–19:00 (Vietnam time);
NOW is 11:00 on 22/11.
"""

import dataclasses
from datetime import time, timedelta

from flask.testing import FlaskClient

from controller import services
from controller.db.models import LiveSession
from controller.planning import PlannedBulletin, PlannedDevice, PlanningInputs, load_schedule, plan
from controller.planning.item_ids import item_id
from controller.planning.model import AudioVersion, RelaySource
from controller.planning.options import BulletinSchedule
from protocol import Asset, Heartbeat
from tests.support.english import english_in_page
from tests.web.conftest import NOW, Runtime
from tests.web.ui_support import post, sign_in
from web import WebContext, create_app

SLOT = {"start_time": "06:00", "minutes": "30", "schedule": "daily", "days": "7", "target_mode": "all"}


def _station(client: FlaskClient) -> int:
    sign_in(client, "admin")
    answer = post(client, "/tiep-song/dai", {"name": "VOV1", "urls": "http://vov.example:8000/vov1\n"})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Đã thêm đài VOV1" in page and "http://vov.example:8000/vov1" in page
    with_id = page.split('name="station"', 1)[1]
    return int(with_id.split('value="', 1)[1].split('"', 1)[0])


def _slot(runtime: Runtime, bulletin_id: int) -> services.BulletinView:
    with runtime.db.session() as db:
        return services.get_bulletin(db, bulletin_id)


def test_a_station_and_a_slot_are_made_from_the_page(client: FlaskClient, runtime: Runtime) -> None:
    station = _station(client)
    sign_in(client, "operator")
    answer = post(client, "/tiep-song/luot", {"station": str(station), **SLOT, "weekdays": ["0", "2"]})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    bulletin_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    view = _slot(runtime, bulletin_id)
    assert view.status == "pending" and view.title == "Tiếp sóng VOV1"
    assert view.source == {"kind": "relay", "station": station, "duration_s": 1800}
    assert view.schedule["start_time"][:5] == "06:00" and view.schedule["weekdays"] == [0, 2]
    assert runtime.changed[-1] == bulletin_id
    assert english_in_page(client.get("/tiep-song").get_data(as_text=True)) == []
    sign_in(client, "admin")
    retired = post(client, f"/tiep-song/dai/{station}/ngung", {})
    assert "Đã ngừng tiếp sóng đài VOV1" in client.get(retired.headers["Location"]).get_data(as_text=True)


def test_a_slot_outside_the_windows_or_overlapping_is_refused_in_vietnamese(
    client: FlaskClient, runtime: Runtime
) -> None:
    station = _station(client)
    sign_in(client, "operator")
    late = post(client, "/tiep-song/luot", {"station": str(station), **SLOT, "start_time": "07:20"})
    page = late.get_data(as_text=True)
    assert late.status_code == 422
    assert "07:20–07:50 không nằm trọn trong khung phát nào (buổi sáng 05:00–07:30" in page
    assert "morning" not in page
    no_time = post(client, "/tiep-song/luot", {"station": str(station), **SLOT, "start_time": ""})
    assert no_time.status_code == 422 and "Hãy nhập giờ bắt đầu tiếp sóng" in no_time.get_data(as_text=True)
    too_long = post(client, "/tiep-song/luot", {"station": str(station), **SLOT, "minutes": "999"})
    assert too_long.status_code == 422 and "phải là số phút từ 1 đến 240" in too_long.get_data(as_text=True)
    assert post(client, "/tiep-song/luot", {"station": str(station), **SLOT}).status_code == 302
    overlap = post(client, "/tiep-song/luot", {"station": str(station), **SLOT, "start_time": "06:15"})
    assert overlap.status_code == 422 and "06:15–06:45 trùng giờ với lượt số" in overlap.get_data(
        as_text=True
    )
    with runtime.db.session() as db:  # nothing stored by the refusals
        assert len(services.list_bulletins(db)) == 1


def test_the_viewer_sees_stations_but_no_forms(client: FlaskClient) -> None:
    _station(client)
    sign_in(client, "viewer")
    page = client.get("/tiep-song").get_data(as_text=True)
    assert "VOV1" in page and "Thêm đài" not in page and "Đặt lượt tiếp sóng" not in page
    assert post(client, "/tiep-song/dai", {"name": "VOV2", "urls": "http://x.example/a"}).status_code == 403


def test_the_schedule_shows_a_relay_slot_in_its_own_colour_with_its_station(
    client: FlaskClient, context: WebContext, runtime: Runtime
) -> None:
    station = _station(client)
    sign_in(client, "operator")
    evening = {"station": str(station), **SLOT, "start_time": "17:00", "title": "Thời sự tối"}
    bulletin_id = int(post(client, "/tiep-song/luot", evening).headers["Location"].rsplit("/", 1)[1])
    with runtime.db.session() as db:
        text = services.create_bulletin(
            db, services.get_user(db, "operator"), NOW, title="Tiêm phòng", text="x", targets={"all": True}
        ).id
    schedule = load_schedule(context.settings.schedule)
    asset = Asset(sha256="a" * 64, bytes=1000, duration_ms=60_000, url="http://x/a")
    clusters = frozenset({"tule-c01"})
    relay = PlannedBulletin(
        bulletin_id, "priority", NOW, clusters, (AudioVersion("vi", asset),),
        schedule=BulletinSchedule(start_time=time(17, 0)),
        relay=RelaySource(str(station), ("http://vov.example:8000/vov1",), timedelta(minutes=30)),
    )  # fmt: skip
    spoken = PlannedBulletin(text, "normal", NOW, clusters, (AudioVersion("vi", asset),))
    result = plan(
        PlanningInputs((relay, spoken), (PlannedDevice("tule-c01", frozenset({"vi"}), schedule),)), NOW
    )
    assert {p.bulletin_id for p in result.placements} == {bulletin_id, text}  # the planner placed both
    app = create_app(dataclasses.replace(context, planning_preview=lambda: result))
    app.testing = True
    client = app.test_client()
    sign_in(client, "operator")
    page = client.get("/schedule").get_data(as_text=True)
    assert 'class="seg seg-relay"' in page and "<title>Tiếp sóng VOV1</title>" in page
    assert '<span class="tag tag-relay">Tiếp sóng VOV1</span>' in page and "Thời sự tối" in page
    assert 'Thời sự tối</a> <span class="meta">đến 17:30</span>' in page
    assert 'class="seg seg-placed"' in page and "Tiêm phòng" in page
    assert english_in_page(page) == []


def _beat(playing: str) -> Heartbeat:
    return Heartbeat(
        seq=1, boot_id="b1", uptime_s=60, sent_at=NOW, clock_synced=True, plan_version=1,
        assets_missing=0, amp_on=True, agent_version="1.0", playing=playing,
    )  # fmt: skip


def _village_item(card: str, village: str) -> str:
    return card.split(f'data-village="{village}"', 1)[1].split('<li data-village="', 1)[0]


def test_the_on_air_card_shows_per_village_a_bulletin_a_relay_and_a_live_session(
    client: FlaskClient, runtime: Runtime
) -> None:
    station = _station(client)
    sign_in(client, "operator")
    relay = int(
        post(client, "/tiep-song/luot", {"station": str(station), **SLOT})
        .headers["Location"]
        .rsplit("/", 1)[1]
    )
    with runtime.db.session() as db:
        operator = services.get_user(db, "operator")
        bulletin = services.create_bulletin(
            db, operator, NOW, title="Lịch tiêm phòng", text="x", targets={"all": True}
        )
        services.record_heartbeat(
            db, "tule-c01", _beat(item_id(bulletin.id, 0, "2026-11-22-morning", "vi")), NOW
        )
        services.record_heartbeat(
            db, "tule-c03", _beat(item_id(relay, 0, "2026-11-22-morning", "relay")), NOW
        )
        db.add(
            LiveSession(
                id="s1", commune_id="tule", user_id=operator.id, title="Họp dân khẩn", targets={},
                devices=["tule-c04"], state="on_air", created_at=NOW, started_at=NOW,
            )
        )  # fmt: skip
    sign_in(client, "viewer")
    page = client.get("/devices").get_data(as_text=True)
    card = page.split("data-on-air", 1)[1].split("</section>", 1)[0]
    lim, phinh, than = (_village_item(card, v) for v in ("ban-lim", "ban-phinh", "khau-than"))
    assert "Bản Lìm" in lim and "Đang phát" in lim and "Bản tin: Lịch tiêm phòng" in lim
    assert "(1 cụm loa)" in lim and "on-air-idle" not in lim
    assert "Bản Phình" in phinh and "Tiếp sóng VOV1" in phinh
    assert "Trực tiếp: Họp dân khẩn" in than
    assert english_in_page(page) == []
    assert "Bản Có" in _village_item(card, "ban-co") and "— không phát" in _village_item(card, "ban-co")
