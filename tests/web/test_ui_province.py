"""The UI for a province (DESIGN §11): staff above a commune see one row per commune, the commune decides
on a bulletin from above in its inbox, the sender reads the outcome, admins manage users under their area."""

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import event

from controller import services
from controller.i18n.format import format_percent
from controller.services import inbox
from controller.services.areas import create_area
from controller.services.scope import area_scope
from protocol import Heartbeat
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


def _heard(runtime: Runtime, device_id: str, start: datetime, end: datetime) -> None:
    """Heartbeats every 30 s over [start, end), through the real ingest in one batch."""
    beats, at, n = [], start, 0
    while at < end:
        n += 1
        beat = Heartbeat(
            seq=n, boot_id="b1", uptime_s=30 * n, sent_at=at, clock_synced=True, plan_version=1,
            assets_missing=0, amp_on=False, agent_version="1.0", cpu_temp_c=50.0, net={"type": "4G"},
        )  # fmt: skip
        beats.append((device_id, beat, at))
        at += timedelta(seconds=30)
    with runtime.db.session() as session:
        services.record_heartbeats(session, beats)


def _row(page: str, name: str) -> str:
    found = re.search(rf">{name}</a></td>.*?</tr>", page, re.S)
    assert found, f"no row for {name}"
    return found.group(0)


def test_the_communes_uptime_comes_from_the_leaders_rollup_while_it_is_fresh(
    client: FlaskClient, runtime: Runtime
) -> None:
    _province(runtime)
    with runtime.db.session() as session:
        services.provision_device(
            session, "namlanh-c02", NOW - timedelta(hours=2), name="Cụm 2", village_id="04631-ban"
        )
    _heard(runtime, "namlanh-c02", NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    sign_in(client, "tinh-admin")
    summed = client.get("/devices").get_data(as_text=True)
    assert 'id="uptime-at"' not in summed  # no rollup yet: summed for the request
    earlier = NOW - timedelta(minutes=3)
    with runtime.db.session() as session:
        services.refresh_village_uptime(session, earlier)
        (tally,) = [t for t in services.village_tallies(session, earlier) if t.village_id == "04631-ban"]
    page = client.get("/devices").get_data(as_text=True)
    assert f"Tỉ lệ hoạt động tính lúc {earlier.astimezone(ZoneInfo('Asia/Ho_Chi_Minh')):%H:%M}" in page
    # Nậm Lành's only village with clusters: the commune's mean is the village's, three minutes ago.
    row = _row(page, "Xã Nậm Lành")
    assert f"<td>{format_percent(tally.uptime_24h)}</td>" in row and row != _row(summed, "Xã Nậm Lành")
    assert "<td>2</td><td>1</td>" in row  # two clusters, one online: counted now


def test_links_inside_an_opened_commune_keep_it(client: FlaskClient, runtime: Runtime) -> None:
    _province(runtime)
    with runtime.db.session() as session:
        create_area(session, NOW, code="04631-suoi", name="Bản Suối", level="village", parent="04631")
        services.provision_device(session, "namlanh-c09", NOW, name="Cụm 9", village_id="04631-suoi")
    sign_in(client, "tinh-admin")
    page = client.get("/devices?xa=04631").get_data(as_text=True)
    assert '<input type="hidden" name="xa" value="04631">' in page
    assert 'href="/devices?xa=04631&amp;thon=04631-suoi"' in page
    village = client.get("/devices?xa=04631&thon=04631-suoi").get_data(as_text=True)
    assert "namlanh-c09" in village and "namlanh-c01" not in village


def test_the_province_devices_page_computes_the_users_scope_once(
    client: FlaskClient, runtime: Runtime
) -> None:
    _province(runtime)
    sign_in(client, "tinh-boss")  # an approver: the header counts pending bulletins in the same scope
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        page = client.get("/devices").get_data(as_text=True)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)
    assert "Thiết bị theo xã" in page
    walks = [s for s in seen if re.match(r"SELECT areas\.code, areas\.parent_code\s+FROM areas\s*$", s)]
    # The page's scope, shared with the header; the header's count of visible bulletins walks it once more
    # (controller.services.scope, bulletins sent from an area). Each asked for its own scope before: 3.
    assert len(walks) == 2
