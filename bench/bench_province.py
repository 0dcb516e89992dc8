"""Page times of a province (DESIGN §11): 3,000 clusters in ~170 communes of 9 districts, per level.

Seeds the area tree through the real services (province → 9 districts → 170 communes → 10 villages each),
3,000 clusters by bulk insert with 14 days of heartbeat coverage (some outages) and 7 days of finished
plays (four a day per cluster), and a province bulletin in every commune's inbox. Then serves the real app
on the real waitress server and measures p50 / p95 / max over N keep-alive requests per page, signed in as
the province admin (pages aggregate by commune), a district admin, and a commune operator; the commune's
own devices page is the baseline in the same run. The per-village uptime rollup is refreshed once after
seeding, as the scheduler leader's job would have done. Prints the SQL statements per request too.

    .venv/bin/python bench/bench_province.py [--clusters 3000] [--communes 170] [--requests 15]
"""

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import event, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller import services
from controller.assets import AssetStore
from controller.config import Settings
from controller.db import Database, upgrade
from controller.db.models import Device, DeviceCoverage, Play
from controller.services.areas import create_area
from web import WebContext, create_app
from web.server import WebServer

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PASSWORD = "bench-password-1"  # noqa: S105 (a throw-away account in a temporary database)
DISTRICTS = 9
VILLAGES_PER_COMMUNE = 10
CHUNK = 5000
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def seed(db: Database, clusters: int, communes: int) -> dict[str, str]:
    """The tree, clusters, coverage and plays; the usernames to sign in as per level, and an API token."""
    rng = random.Random(14)
    started = time.perf_counter()
    villages: list[str] = []
    with db.session() as session:
        create_area(session, NOW, code="15", name="Tỉnh Yên Bái", level="province", parent=None)
        for d in range(DISTRICTS):
            create_area(session, NOW, code=f"{140 + d}", name=f"Huyện {d + 1}", level="district", parent="15")
        for c in range(communes):
            code = f"{4600 + c:05d}"
            create_area(
                session, NOW, code=code, name=f"Xã {c + 1}", level="commune", parent=f"{140 + c % DISTRICTS}"
            )
            for v in range(VILLAGES_PER_COMMUNE):
                village = f"{code}-b{v}"
                create_area(session, NOW, code=village, name=f"Bản {v + 1}", level="village", parent=code)
                villages.append(village)
        for name, role, area in (
            ("tinh-admin", "admin", "15"),
            ("tinh-op", "operator", "15"),
            ("tinh-boss", "approver", "15"),
            ("huyen-admin", "admin", "140"),
            ("xa-op", "operator", "04600"),
        ):
            services.create_user(session, name, PASSWORD, role, NOW, area=area)
    print(f"area tree: {DISTRICTS} districts, {communes} communes, {len(villages)} villages "
          f"({time.perf_counter() - started:.1f} s)")  # fmt: skip
    devices, spans, plays = [], [], []
    for n in range(clusters):
        device_id = f"c{n:05d}"
        devices.append({
            "id": device_id, "name": f"Cụm {n + 1}", "village_id": villages[n % len(villages)], "speakers": 2,
            "mqtt_password_hash": "$7$bench", "online": rng.random() < 0.9, "last_seen": NOW,
            "created_at": NOW - timedelta(days=60),
        })  # fmt: skip
        cursor = NOW - timedelta(days=14)
        for _ in range(rng.randint(0, 4)):
            gap_start = cursor + timedelta(hours=rng.randint(1, 60))
            spans.append({"device_id": device_id, "start_at": cursor, "end_at": gap_start})
            cursor = gap_start + timedelta(minutes=rng.randint(3, 300))
        spans.append({"device_id": device_id, "start_at": cursor, "end_at": NOW + timedelta(seconds=75)})
        for day in range(7):
            for slot in range(4):
                start = NOW - timedelta(days=day, hours=10 - slot)
                plays.append({
                    "device_id": device_id, "seq": day * 4 + slot + 1, "started_at": start,
                    "finished_at": start + timedelta(seconds=rng.randint(40, 240)), "status": "finished",
                })  # fmt: skip
    for model, rows, label in (
        (Device, devices, "clusters"),
        (DeviceCoverage, spans, "spans"),
        (Play, plays, "plays"),
    ):
        for start in range(0, len(rows), CHUNK):
            with db.session() as session:
                session.execute(insert(model), rows[start : start + CHUNK])
        print(f"{label}: {len(rows):,}")
    with db.session() as session:
        author = services.get_user(session, "tinh-op")
        boss = services.get_user(session, "tinh-boss")
        view = services.create_bulletin(
            session,
            author,
            NOW,
            title="Phòng chống rét",
            text="Tỉnh thông báo rét đậm.",
            targets={"all": True},
        )
        services.submit(session, view.id, author, NOW)
        services.approve(session, view.id, boss, NOW)
        token = services.issue_token(
            session, services.get_user(session, "tinh-admin"), NOW, timedelta(days=1)
        )
    return {"province": "tinh-admin", "district": "huyen-admin", "commune": "xa-op", "token": token}


@contextmanager
def serving(db: Database, workdir: Path) -> Iterator[str]:
    """The real app on the real waitress server on a free loopback port."""

    def refuse(*_: object) -> Any:
        raise ConnectionError("no broker in the benchmark")

    context = WebContext(
        db=db, settings=Settings(data_dir=workdir), clock=lambda: NOW, assets=AssetStore(workdir / "assets"),
        asset_url_secret=b"b" * 32, on_bulletin_changed=lambda _id: None, render_preview=refuse,
        send_command=refuse, health=lambda: {"db": "ok", "mqtt": "connected"},
    )  # fmt: skip
    server = WebServer(create_app(context), host="127.0.0.1", port=0, threads=4)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def signed_in(base: str, username: str) -> requests.Session:
    """A browser session signed in through the login form."""
    http = requests.Session()
    token = _CSRF.search(http.get(f"{base}/login", timeout=60).text)
    assert token, "no CSRF token on the login page"
    fields = {
        "csrf_token": (None, token.group(1)),
        "username": (None, username),
        "password": (None, PASSWORD),
    }
    answer = http.post(f"{base}/login", files=fields, allow_redirects=False, timeout=60)
    assert answer.status_code == 302, answer.text[:300]
    return http


def measure(
    http: requests.Session, url: str, count: int, statements: list[int]
) -> tuple[float, float, float, float, int]:
    """p50, p95, max (ms), mean statements per request and the last body's size, after one warm-up."""
    http.get(url, timeout=300).raise_for_status()
    times, counts, size = [], [], 0
    for _ in range(count):
        before = statements[0]
        started = time.perf_counter()
        answer = http.get(url, timeout=300)
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
        counts.append(statements[0] - before)
        size = len(answer.content)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, times[-1], statistics.mean(counts), size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clusters", type=int, default=3000)
    parser.add_argument("--communes", type=int, default=170)
    parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'loaxa.db'}"
        upgrade(url)
        db = Database(url)
        users = seed(db, args.clusters, args.communes)
        started = time.perf_counter()
        with db.session() as session:  # what the scheduler leader does every minute (loaxa.runtime)
            services.refresh_village_uptime(session, NOW)
        print(f"uptime rollup refreshed in {(time.perf_counter() - started) * 1e3:.0f} ms")
        statements = [0]
        event.listen(
            db.engine, "before_cursor_execute", lambda *_: statements.__setitem__(0, statements[0] + 1)
        )
        week = f"from={(NOW - timedelta(days=7)).isoformat()}&to={NOW.isoformat()}".replace("+", "%2B")
        pages = [
            ("commune", "/devices", "devices, one commune's operator (baseline)"),
            ("province", "/devices", "devices, province: one row per commune"),
            ("province", "/devices?xa=04600", "devices, province opens one commune"),
            ("district", "/devices", "devices, district: one row per commune"),
            ("province", "/schedule", "schedule, province (no planner hooked: rows only)"),
            ("province", "/hop-thu", "inbox, province: 170 entries"),
            ("commune", "/hop-thu", "inbox, one commune"),
            ("province", "/thong-ke", "statistics page, province, 7 days"),
            ("district", "/thong-ke", "statistics page, district, 7 days"),
            ("province", f"/api/v1/stats?{week}", "GET /api/v1/stats, province, 7 days"),
            ("province", "/reports", "monthly report, province (per commune)"),
        ]
        print(f"\n{'page':<52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL/req':>8} {'KB':>7}")
        with serving(db, workdir) as base:
            token = users.pop("token")
            sessions = {level: signed_in(base, name) for level, name in users.items()}
            sessions["province"].headers["Authorization"] = (
                f"Bearer {token}"  # for the API; pages use the cookie
            )
            for level, path, label in pages:
                p50, p95, worst, sql, size = measure(sessions[level], base + path, args.requests, statements)
                print(f"{label:<52} {p50:8.1f} {p95:8.1f} {worst:8.1f} {sql:8.1f} {size / 1024:7.0f}")
        db.dispose()


if __name__ == "__main__":
    main()
