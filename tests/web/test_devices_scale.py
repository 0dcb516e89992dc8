"""The devices dashboard and list at more than a commune's worth of clusters: a fixed number of SQL
statements whatever the number of devices, paging and filters, and the same figures as per-device reads."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event

from controller import services
from controller.db.models import Device
from protocol import Heartbeat
from tests.web.conftest import NOW, Runtime
from tests.web.ui_support import sign_in
from web.ui import common, health

# BEGIN and the signed-in user, BEGIN, the village tallies, villages, the alerted devices and their
# coverage, the page's devices and their coverage, window coverage (two), and for the "Đang phát" card the
# clusters playing and the live sessions on air (12 devices before issue 8: 175).
DASHBOARD_STATEMENTS = 13
# BEGIN, token, user, BEGIN, devices, their coverage.
API_STATEMENTS = 6
EXTRA_VILLAGES = ("ban-lim", "giang-cai", "tang-ghenh")


@contextmanager
def counting(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements run on the app's engine inside the block."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)


def _beats(runtime: Runtime, device_id: str, start: datetime, minutes: int) -> None:
    """A heartbeat every 30 s for `minutes` from `start`, through the real ingest in one batch."""
    beats = []
    for n in range(minutes * 2):
        at = start + timedelta(seconds=30 * n)
        hb = Heartbeat(
            seq=n + 1, boot_id="b1", uptime_s=30 * n, sent_at=at, clock_synced=True, plan_version=1,
            assets_missing=0, amp_on=False, agent_version="1.0", cpu_temp_c=50.0, net={"type": "4G"},
        )  # fmt: skip
        beats.append((device_id, hb, at))
    with runtime.db.session() as db:
        services.record_heartbeats(db, beats)


def _add_devices(runtime: Runtime, count: int) -> None:
    """`count` more clusters in three of the demo villages, half of them heard from in the last hour."""
    with runtime.db.session() as db:
        for n in range(count):
            db.add(
                Device(
                    id=f"tule-x{n:03d}",
                    name=f"Cụm thêm {n}",
                    village_id=EXTRA_VILLAGES[n % 3],
                    speakers=2,
                    mqtt_password_hash="$7$test",
                    online=False,
                    created_at=NOW,
                )
            )
    for n in range(0, count, 2):
        _beats(runtime, f"tule-x{n:03d}", NOW - timedelta(minutes=30), 30)


def _cards(page: str) -> list[str]:
    return re.findall(r'data-device="([^"]+)"', page)


def test_dashboard_statements_do_not_grow_with_devices(client: FlaskClient, runtime: Runtime) -> None:
    _beats(runtime, "tule-c01", NOW - timedelta(minutes=20), 20)
    sign_in(client, "viewer")
    with counting(runtime) as few:
        assert client.get("/devices").status_code == 200
    _add_devices(runtime, 60)
    with counting(runtime) as many:
        page = client.get("/devices").get_data(as_text=True)
    assert "31/72</strong> cụm loa đang trực tuyến" in page
    assert len(many) == len(few) <= DASHBOARD_STATEMENTS, many
    with counting(runtime) as api:
        answer = client.get("/api/v1/devices", headers=runtime.auth("viewer"))
    assert len(answer.get_json()["items"]) == 72
    assert len(api) <= API_STATEMENTS, api


def test_dashboard_pages_and_filters(client: FlaskClient, runtime: Runtime) -> None:
    _add_devices(runtime, 60)
    sign_in(client, "viewer")
    first = client.get("/devices").get_data(as_text=True)
    assert _cards(first) == sorted(_cards(first)) and len(_cards(first)) == 24
    assert "Trang 1/3" in first and "Trang sau ›" in first
    # Bản Lìm: tule-c01, tule-c02 and 20 added clusters, 10 of them heard from.
    assert "Theo thôn bản (9)" in first and "Bản Lìm (10/22 trực tuyến)" in first
    assert "Còn 22 cảnh báo khác" in first  # 12 + 30 clusters offline, 20 alerts listed
    last = client.get("/devices?trang=3").get_data(as_text=True)
    assert len(_cards(last)) == 24 and "‹ Trang trước" in last and "Trang sau ›" not in last
    every = _cards(first) + _cards(client.get("/devices?trang=2").get_data(as_text=True)) + _cards(last)
    assert len(set(every)) == 72
    village = client.get("/devices?thon=tang-ghenh").get_data(as_text=True)
    assert len(_cards(village)) == 21 and "Trang 1/" not in village and "21 cụm loa." in village
    offline = client.get("/devices?thon=tang-ghenh&trang_thai=offline").get_data(as_text=True)
    assert len(_cards(offline)) == 11 and offline.count("badge-offline") == 11
    alerted = client.get("/devices?trang_thai=alert").get_data(as_text=True)
    assert "Trang 1/2, 42 cụm loa." in alerted and "badge-online" not in alerted
    empty = client.get("/devices?thon=ban-co&trang_thai=online").get_data(as_text=True)
    assert "Không có cụm loa nào khớp bộ lọc" in empty
    assert len(_cards(client.get("/devices?trang=99&thon=nowhere").get_data(as_text=True))) == 24


def test_dashboard_figures_match_the_per_device_ones(client: FlaskClient, runtime: Runtime) -> None:
    for device_id, gaps in (("tule-c01", 0), ("tule-c02", 4), ("tule-c05", 9)):
        step = timedelta(days=1) / (gaps + 1)
        for n in range(gaps + 1):  # each run stops 40 minutes short of the next: a gap
            _beats(runtime, device_id, NOW + n * step, int(step.total_seconds() // 60) - 40)
    runtime.now = NOW + timedelta(days=1)
    sign_in(client, "viewer")
    page = client.get("/devices").get_data(as_text=True)
    figures: dict[str, float] = {}
    with client.application.app_context(), runtime.db.session() as db:
        for view in services.list_devices(db, runtime.now, commune_id="tule"):
            card = page.split(f'data-device="{view.id}"')[1].split("</li>")[0]
            one = services.get_device(db, view.id, runtime.now)
            available = health.window_availability(db, view.id, runtime.now)
            expected = (one.uptime_24h, one.uptime_7d, available)
            shown = re.findall(r"(?:24 giờ|7 ngày|Khung giờ): ([^<]+)</span>", card)
            assert shown == [common.percent(f) for f in expected], view.id
            assert available is not None, view.id
            figures[view.id] = available
    # Only window time since each cluster was provisioned counts: the steady one was up all of it.
    assert (
        0 < figures["tule-c05"] < figures["tule-c02"] < figures["tule-c01"] == 1 and figures["tule-c03"] == 0
    )
