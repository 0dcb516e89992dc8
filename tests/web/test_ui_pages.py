"""Devices dashboard and device page, commands, the schedule view, the as-run log and monthly report."""

import dataclasses
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from controller import services
from controller.planning import (
    AudioVersion,
    PlannedBulletin,
    PlannedDevice,
    PlanningInputs,
    PlanningResult,
    load_schedule,
    plan,
)
from controller.planning.windows import Schedule
from protocol import Asset, Event, Heartbeat
from protocol.messages import EventType
from tests.web.conftest import NOW, Runtime
from tests.web.ui_support import post, sign_in
from web import WebContext, create_app

SHA = "a" * 64


def _heartbeats(runtime: Runtime, device_id: str, start: datetime, minutes: int, **metrics: object) -> None:
    with runtime.db.session() as db:
        for n in range(minutes * 2):
            at = start + timedelta(seconds=30 * n)
            hb = Heartbeat(
                seq=n + 1,
                boot_id="b1",
                uptime_s=30 * n,
                sent_at=at,
                clock_synced=True,
                plan_version=1,
                assets_missing=int(str(metrics.get("assets_missing", 0))),
                amp_on=False,
                agent_version="1.0",
                cpu_temp_c=51.5,
                disk_free_mb=2048.0,
                volume=70,
                net={"type": "4G", "signal": "-71 dBm"},
            )
            services.record_heartbeat(db, device_id, hb, at)


def test_dashboard_shows_online_offline_bars_metrics_and_alerts(
    client: FlaskClient, runtime: Runtime
) -> None:
    _heartbeats(runtime, "tule-c01", NOW - timedelta(minutes=20), 20)
    _heartbeats(runtime, "tule-c02", NOW - timedelta(minutes=5), 5, assets_missing=2)
    sign_in(client, "viewer")
    page = client.get("/devices").get_data(as_text=True)
    assert "2/12</strong> cụm loa đang trực tuyến" in page
    assert "Thiếu 2 tệp âm thanh trước khung giờ" in page
    assert page.count("Ngoại tuyến quá 10 phút") == 10
    assert "52 °C" in page and "2,1 GB" in page and "4G -71 dBm" in page
    assert 'aria-label="Thời gian hoạt động 24 giờ: ' in page
    assert page.count("Ngoại tuyến quá 60 phút") == 0 and "Ngoại tuyến quá 60 phút" in client.get(
        "/devices?phut=60"
    ).get_data(as_text=True)


def test_device_page_draws_the_heartbeat_gaps_and_sends_commands(
    client: FlaskClient, runtime: Runtime
) -> None:
    _heartbeats(runtime, "tule-c03", NOW - timedelta(hours=3), 60)
    sign_in(client, "viewer")
    page = client.get("/devices/tule-c03").get_data(as_text=True)
    assert (
        'class="seg seg-none"' in page and "chưa lắp đặt" in page
    )  # its heartbeats came before it was added
    assert "Điều khiển" not in page
    assert post(client, "/devices/tule-c03/cmd", {"command": "stop"}).status_code == 403
    sign_in(client, "admin")
    post(client, "/devices/tule-c03/cmd", {"command": "set_volume", "volume": "65"})
    post(client, "/devices/tule-c03/cmd", {"command": "test_tone"})
    post(client, "/devices/tule-c03/cmd", {"command": "set_volume", "volume": "300"})
    assert runtime.commands == [
        ("tule-c03", {"command": "set_volume", "volume": 65}),
        ("tule-c03", {"command": "test_tone"}),
    ]
    assert client.get("/devices/nope").status_code == 404


def planned(runtime: Runtime, schedule: Schedule) -> tuple[tuple[int, ...], PlanningResult]:
    """Three long bulletins for two clusters: the evening window fits two, the third is deferred."""
    ids = []
    with runtime.db.session() as db:
        operator = services.get_user(db, "operator")
        for n in range(3):
            ids.append(
                services.create_bulletin(
                    db, operator, NOW, title=f"Tin dài {n}", text="x", targets={"all": True}
                ).id
            )
    asset = Asset(sha256=SHA, bytes=1000, duration_ms=50 * 60 * 1000, url="http://x/a")
    devices = tuple(PlannedDevice(d, frozenset({"vi"}), schedule) for d in ("tule-c01", "tule-c02"))
    bulletins = tuple(
        PlannedBulletin(i, "normal", NOW, frozenset({"tule-c01", "tule-c02"}), (AudioVersion("vi", asset),))
        for i in ids
    )
    return tuple(ids), plan(PlanningInputs(bulletins, devices), NOW)


def test_schedule_view_groups_by_window_and_village_with_capacity_and_deferrals(
    context: WebContext, runtime: Runtime
) -> None:
    schedule = load_schedule(context.settings.schedule)
    _ids, result = planned(runtime, schedule)
    app = create_app(dataclasses.replace(context, planning_preview=lambda: result))
    client = app.test_client()
    sign_in(client, "operator")
    page = client.get("/schedule").get_data(as_text=True)
    assert "Buổi chiều 22/11" in page and "Bản Lìm" in page and "Tin dài 0" in page
    assert "Độ đầy (cụm loa bận nhất):" in page and 'class="seg seg-placed"' in page
    assert "Khung giờ đã đầy, chuyển sang khung sau" in page and "Buổi sáng 23/11" in page
    compose = client.get("/compose").get_data(as_text=True)
    assert "seg-busy" in compose


def test_schedule_view_without_the_hook_says_so(client: FlaskClient) -> None:
    sign_in(client, "operator")
    assert "Chưa có kế hoạch phát" in client.get("/schedule").get_data(as_text=True)


def _played(runtime: Runtime) -> int:
    with runtime.db.session() as db:
        operator = services.get_user(db, "operator")
        bulletin = services.create_bulletin(
            db, operator, NOW, title="Tin", text="Nội dung.", targets={"all": True}
        )
        start = NOW - timedelta(hours=1)
        for device_id, seq in (("tule-c01", 10), ("tule-c02", 20)):
            services.plan_delivery(  # as publishing the plan does: a device logs only what it was sent
                db,
                NOW,
                bulletin_id=bulletin.id,
                device_id=device_id,
                item_id=f"{bulletin.id}-vi",
                planned_start=start,
            )
            steps: tuple[tuple[int, EventType], ...] = ((0, "started"), (2, "finished"))
            for offset, kind in steps:
                event = Event(
                    seq=seq + offset,
                    type=kind,
                    at=start + timedelta(minutes=offset),
                    boot_id="b1",
                    item_id=f"{bulletin.id}-vi",
                    bulletin_id=bulletin.id,
                )
                services.record_event(db, device_id, event, event.at)
    return bulletin.id


def test_as_run_log_filters_and_exports_csv(client: FlaskClient, runtime: Runtime) -> None:
    bulletin_id = _played(runtime)
    sign_in(client, "viewer")
    page = client.get("/plays").get_data(as_text=True)
    assert "2 lượt phát" in page and f"#{bulletin_id}" in page
    assert "1 lượt phát" in client.get("/plays?device=tule-c02").get_data(as_text=True)
    assert "0 lượt phát" in client.get("/plays?from=2026-10-01&to=2026-10-02").get_data(as_text=True)
    answer = client.get("/plays.csv?device=tule-c01")
    text = answer.get_data(as_text=True)
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("bulletin_id,device,village") and len(lines) == 2
    assert f"{bulletin_id},tule-c01,Bản Lìm,2026-11-22 10:00:00,2026-11-22 10:02:00,finished" in lines[1]


def test_monthly_report_page_and_csv(client: FlaskClient, runtime: Runtime) -> None:
    _played(runtime)
    sign_in(client, "viewer")
    page = client.get("/reports?month=2026-11").get_data(as_text=True)
    assert "tháng 11/2026" in page and "Tổng thời lượng phát: <strong>4,0 phút" in page
    assert 'src="/static/print.js"' in page
    lines = client.get("/reports.csv?month=2026-11").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "device,name,village,airtime_s,bulletins,plays,uptime" and len(lines) == 13
    assert lines[1].startswith("tule-c01,Cụm loa 01 – Bản Lìm,Bản Lìm,120,1,1,")
    with client.get("/static/ui.css") as css:
        assert "@media print" in css.get_data(as_text=True)


def test_monthly_uptime_counts_from_provisioning_in_batch_queries(
    client: FlaskClient, runtime: Runtime
) -> None:
    # The demo clusters were provisioned at NOW; an hour later c01 has been up for its first 30 minutes.
    _heartbeats(runtime, "tule-c01", NOW, 29)
    runtime.now = NOW + timedelta(hours=1)
    sign_in(client, "viewer")
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", record)
    try:
        lines = client.get("/reports.csv?month=2026-11").get_data(as_text=True).lstrip("\ufeff").splitlines()
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", record)
    uptime = {line.split(",")[0]: line.rsplit(",", 1)[1] for line in lines[1:]}
    assert float(uptime["tule-c01"]) == pytest.approx(0.5, abs=0.01)  # 30 min of 60, not of a month
    assert float(uptime["tule-c02"]) == 0.0
    coverage_queries = [s for s in statements if "device_coverage" in s]
    # One for the device list's 24 h / 7 d uptime, one for the month's, whatever the number of clusters
    # (it was one per cluster).
    assert len(coverage_queries) == 2, coverage_queries
