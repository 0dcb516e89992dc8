"""Web latency at province scale: the devices dashboard and bulletin lists over real HTTP.

Seeds a province (by default 3,000 clusters in 300 villages of 30 communes, each with 14 days of heartbeat
coverage — most up, some flaky, some gone offline, a few never seen — and a few hundred bulletins in every
state with their audio and deliveries), serves the real app with the real waitress server
(web.server) on a loopback port, and measures p50 / p95 / max over N keep-alive requests per
page after a warm-up, as the province-wide admin (no commune: every cluster; /devices is then one row per
commune, and ?xa= opens one commune's 100 clusters). Baseline in the same run and
on the same server: GET /api/v1/health. The server's SQL statements per request are counted too
(SQLAlchemy `before_cursor_execute`), and a page slower than --budget seconds in all stops after 3 requests.

    .venv/bin/python bench/bench_web.py [--devices 3000] [--villages 300] [--communes 30] [--bulletins 400]
        [--requests 50] [--warmup 3] [--budget 120] [--postgres URL|auto]
"""

import argparse
import hashlib
import json
import random
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
from controller.db.models import (
    Area,
    Asset,
    Bulletin,
    BulletinAudio,
    Commune,
    Delivery,
    Device,
    DeviceCoverage,
    Village,
)
from tests.support.services import running_postgres
from web import WebContext, create_app
from web.server import WebServer

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # 15:00 in Vietnam: both of today's windows are past
PASSWORD = "bench-password-1"  # noqa: S105 (a throw-away account in a temporary database)
HISTORY = timedelta(days=14)
BEAT = timedelta(seconds=30)
COVER = BEAT * 2.5
CHUNK = 5000
ODD_STATES = ("skipped", "failed", "planned")
DASHBOARD_P95_S = 0.100
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def progress(label: str, done: int, total: int) -> None:
    print(f"\r{label}: {done:,}/{total:,}", end="" if done < total else "\n", flush=True)


def _bulk(db: Database, model: Any, rows: list[dict[str, Any]], label: str) -> None:
    """Insert rows in chunks, one transaction each, with progress."""
    for start in range(0, len(rows), CHUNK):
        with db.session() as session:
            session.execute(insert(model), rows[start : start + CHUNK])
        progress(label, min(start + CHUNK, len(rows)), len(rows))
    if not rows:
        progress(label, 0, 0)


def _metrics(rng: random.Random, at: datetime) -> dict[str, Any]:
    """A heartbeat's JSON as ingest stores it on the device row."""
    return {
        "seq": rng.randint(1, 50_000), "boot_id": "bench-boot", "uptime_s": rng.randint(60, 900_000),
        "sent_at": at.isoformat().replace("+00:00", "Z"), "clock_synced": True,
        "cpu_temp_c": round(rng.uniform(38, 78), 1), "load1": round(rng.uniform(0, 2), 2),
        "mem_used_pct": round(rng.uniform(20, 70), 1), "disk_free_mb": round(rng.uniform(300, 12_000), 1),
        "cache_bytes": rng.randint(0, 400_000_000), "plan_version": rng.randint(1, 40),
        "assets_missing": 0 if rng.random() < 0.97 else rng.randint(1, 3), "playing": None,
        "volume": rng.choice((60, 70, 80, 90)), "amp_on": False,
        "net": {"type": rng.choice(("4G", "4G", "3G", "wifi", "eth")),
                "signal": f"-{rng.randint(60, 105)} dBm"},
        "agent_version": "1.0.0",
    }  # fmt: skip


def _history(
    rng: random.Random, start: datetime, end: datetime, outages: int
) -> list[tuple[datetime, datetime]]:
    """Coverage spans over [start, end] broken by `outages` gaps of a few minutes to a few hours."""
    cuts = sorted(start + (end - start) * rng.random() for _ in range(outages))
    spans, cursor = [], start
    for cut in cuts:
        if cut <= cursor:
            continue
        spans.append((cursor, cut))
        cursor = cut + timedelta(minutes=rng.choice((3, 5, 12, 40, 90, 240)))
    if cursor < end:
        spans.append((cursor, end))
    return spans


def seed(db: Database, devices: int, villages: int, communes: int, bulletins: int) -> str:
    """A province: communes → villages → clusters with heartbeat history, users, and bulletins."""
    rng = random.Random(8)
    created = NOW - timedelta(days=60)
    districts = max(1, communes // 10)
    area_rows = [{"code": "15", "name": "Tỉnh Bench", "level": "province", "parent_code": None}]
    area_rows += [
        {"code": f"{130 + d:03d}", "name": f"Huyện Số {d + 1}", "level": "district", "parent_code": "15"}
        for d in range(districts)
    ]
    area_rows += [
        {"code": f"{4600 + c:05d}", "name": f"Xã Số {c + 1}", "level": "commune",
         "parent_code": f"{130 + c % districts:03d}"}
        for c in range(communes)
    ]  # fmt: skip
    area_rows += [
        {"code": f"x{v % communes:03d}-t{v:04d}", "name": f"Thôn Bản {v + 1}", "level": "village",
         "parent_code": f"{4600 + v % communes:05d}"}
        for v in range(villages)
    ]  # fmt: skip
    with db.session() as session:
        session.execute(insert(Area), [{**row, "created_at": created} for row in area_rows])
        session.execute(
            insert(Commune),
            [
                {"id": f"x{c:03d}", "name": f"Xã Số {c + 1}", "area_code": f"{4600 + c:05d}",
                 "created_at": created}
                for c in range(communes)
            ],
        )  # fmt: skip
        session.execute(
            insert(Village),
            [
                {"id": f"x{v % communes:03d}-t{v:04d}", "commune_id": f"x{v % communes:03d}",
                 "name": f"Thôn Bản {v + 1}", "languages": ["vi", rng.choice(("thai", "mong", "dao"))],
                 "area_code": f"x{v % communes:03d}-t{v:04d}", "created_at": created}
                for v in range(villages)
            ],
        )  # fmt: skip
        admin = services.create_user(session, "tinh-admin", PASSWORD, "admin", NOW)  # province-wide
        author = services.create_user(session, "tinh-operator", PASSWORD, "operator", NOW)
        token = services.issue_token(session, admin, NOW, timedelta(days=1))
    progress("communes and villages", villages, villages)
    device_rows: list[dict[str, Any]] = []
    span_rows: list[dict[str, Any]] = []
    by_commune: dict[str, list[str]] = {}
    kinds = {"healthy": 0, "flaky": 0, "offline": 0, "never seen": 0, "new": 0}
    for n in range(devices):
        village = n % villages
        commune = f"x{village % communes:03d}"
        device_id = f"{commune}-c{n:05d}"
        by_commune.setdefault(commune, []).append(device_id)
        roll = rng.random()
        kind = (
            "healthy" if roll < 0.78 else "flaky" if roll < 0.88 else "offline" if roll < 0.96
            else "never seen" if roll < 0.98 else "new"
        )  # fmt: skip
        kinds[kind] += 1
        born = NOW - timedelta(hours=rng.randint(2, 40)) if kind == "new" else created
        last_beat: datetime | None = NOW - timedelta(seconds=rng.randint(0, 29))
        if kind == "offline":
            last_beat = NOW - timedelta(minutes=rng.randint(15, 60 * 24 * 5))
        elif kind == "never seen":
            last_beat = None
        if last_beat is not None:
            start = max(born, NOW - HISTORY)
            outages = rng.randint(0, 3) if kind in ("healthy", "new") else rng.randint(10, 40)
            for lo, hi in _history(rng, start, last_beat, outages):
                span_rows.append({"device_id": device_id, "start_at": lo, "end_at": hi + COVER})
        device_rows.append(
            {
                "id": device_id, "name": f"Cụm loa {n + 1}", "village_id": f"{commune}-t{village:04d}",
                "speakers": rng.choice((2, 2, 3, 4)), "mqtt_password_hash": "$7$bench",
                "online": kind in ("healthy", "flaky", "new"), "last_seen": last_beat,
                "boot_id": last_beat and "bench-boot", "bdseq": last_beat and 1,
                "metrics": None if last_beat is None else _metrics(rng, last_beat),
                "plan_version": None if last_beat is None else rng.randint(1, 40),
                "agent_version": None if last_beat is None else "1.0.0", "created_at": born,
            }
        )  # fmt: skip
    _bulk(db, Device, device_rows, "devices")
    _bulk(db, DeviceCoverage, span_rows, "coverage spans")
    print("   " + ", ".join(f"{k} {v:,}" for k, v in kinds.items()))
    _seed_bulletins(db, rng, bulletins, by_commune, author=author.id, approver=admin.id)
    return token


def _seed_bulletins(
    db: Database,
    rng: random.Random,
    count: int,
    by_commune: dict[str, list[str]],
    *,
    author: int,
    approver: int,
) -> None:
    """Bulletins over the last 30 days in every status; approved and done ones have audio and deliveries."""
    statuses = ("draft", "pending", "approved", "rejected", "done", "done", "done", "cancelled", "expired")
    communes = sorted(by_commune)
    bulletin_rows, audio_rows, asset_rows, delivery_rows = [], [], [], []
    for n in range(1, count + 1):
        status = rng.choice(statuses)
        province_wide = n % 150 == 0  # an emergency from the province, to every cluster
        commune = None if province_wide else rng.choice(communes)
        reach = [d for c in communes for d in by_commune[c]] if commune is None else by_commune[commune]
        if commune is not None and rng.random() < 0.4:
            reach = rng.sample(reach, k=max(1, len(reach) // 4))
            targets: dict[str, Any] = {"clusters": sorted(reach)}
        else:
            targets = {"all": True}
        at = NOW - timedelta(minutes=rng.randint(10, 30 * 24 * 60))
        decided = status not in ("draft", "pending")
        bulletin_rows.append(
            {
                "id": n, "commune_id": commune, "title": f"Thông báo số {n}: lịch tiêm phòng, họp thôn",
                "text": "Kính thưa bà con, " * rng.randint(5, 40),
                "priority": "emergency" if province_wide else rng.choice(("normal",) * 8 + ("priority",)),
                "status": status, "targets": targets, "schedule": {"mode": "next_window"},
                "author_id": author, "approver_id": approver if decided else None,
                "reject_reason": "Sai ngày họp." if status == "rejected" else None,
                "created_at": at, "updated_at": at + timedelta(hours=1),
                "submitted_at": None if status == "draft" else at + timedelta(minutes=5),
                "approved_at": at + timedelta(minutes=30) if status in ("approved", "done", "expired")
                else None,
                "rejected_at": at + timedelta(minutes=30) if status == "rejected" else None,
                "cancelled_at": at + timedelta(hours=1) if status == "cancelled" else None,
                "ended_at": at + timedelta(days=1) if status in ("done", "expired") else None,
                "expires_at": None,
            }
        )  # fmt: skip
        if status in ("approved", "done", "expired", "cancelled"):
            sha = hashlib.sha256(f"bench {n}".encode()).hexdigest()
            asset_rows.append(
                {"sha256": sha, "bytes": 480_000, "duration_ms": rng.randint(40_000, 180_000),
                 "mime": "audio/mpeg", "engine": "espeak-ng", "voice": "vi", "language": "vi",
                 "normalized_text": None, "cache_key": None, "created_at": at}
            )  # fmt: skip
            audio_rows.append(
                {"bulletin_id": n, "language": "vi", "kind": "tts", "asset_sha256": sha, "position": 0}
            )
            if status != "cancelled":
                state = "played" if status in ("done", "expired") else "delivered"
                for device_id in reach:
                    delivery_rows.append(
                        {"bulletin_id": n, "device_id": device_id,
                         "state": state if rng.random() < 0.93 else rng.choice(ODD_STATES),
                         "item_id": f"b{n}-{device_id}", "planned_start": at + timedelta(hours=3),
                         "played_at": at + timedelta(hours=3) if state == "played" else None,
                         "reason": None, "event_seq": None, "updated_at": at + timedelta(hours=3)}
                    )  # fmt: skip
    _bulk(db, Bulletin, bulletin_rows, "bulletins")
    _bulk(db, Asset, asset_rows, "audio assets")
    _bulk(db, BulletinAudio, audio_rows, "audio versions")
    _bulk(db, Delivery, delivery_rows, "deliveries")


class StatementCounter:
    """Counts SQL statements the server runs, per request (requests are sequential in the bench)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        self._lock = threading.Lock()
        event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        with self._lock:
            self.count += 1


@contextmanager
def serving(db: Database, workdir: Path) -> Iterator[str]:
    """The real app on the real waitress server on a free loopback port; yields its base URL."""

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


def sign_in(http: requests.Session, base: str) -> None:
    """Sign in through the login form, as a browser does."""
    page = http.get(f"{base}/login", timeout=30)
    found = _CSRF.search(page.text)
    assert found, "no CSRF token on the login page"
    answer = http.post(
        f"{base}/login",
        files={
            "csrf_token": (None, found.group(1)),
            "username": (None, "tinh-admin"),
            "password": (None, PASSWORD),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:300]


def measure(
    http: requests.Session,
    url: str,
    args: argparse.Namespace,
    counter: StatementCounter,
    headers: dict[str, str],
) -> dict[str, float]:
    """Latency of up to `args.requests` sequential requests after a warm-up (seconds), bytes and statements.

    A page slower than `args.budget` seconds in all stops after 3 measured requests (the "before" figures
    of a minute-long page would otherwise take an hour).
    """
    for _ in range(args.warmup):
        http.get(url, headers=headers, timeout=600).raise_for_status()
    times: list[float] = []
    size, before, spent = 0, counter.count, time.perf_counter()
    while len(times) < args.requests and (len(times) < 3 or time.perf_counter() - spent < args.budget):
        started = time.perf_counter()
        answer = http.get(url, headers=headers, timeout=600)
        size = len(answer.content)
        times.append(time.perf_counter() - started)
        answer.raise_for_status()
    statements = (counter.count - before) / len(times)
    times.sort()
    return {
        "n": len(times),
        "p50": times[len(times) // 2],
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "max": times[-1],
        "bytes": size,
        "statements": statements,
    }


def run(url: str, args: argparse.Namespace, workdir: Path) -> dict[str, dict[str, float]]:
    upgrade(url)
    db = Database(url)
    started = time.perf_counter()
    token = seed(db, args.devices, args.villages, args.communes, args.bulletins)
    print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    # What the scheduler leader does every minute (loaxa.runtime): the pages above a commune read it.
    started = time.perf_counter()
    with db.session() as session:
        services.refresh_village_uptime(session, NOW)
    print(f"uptime rollup refreshed in {(time.perf_counter() - started) * 1e3:.0f} ms", flush=True)
    counter = StatementCounter(db)
    pages = {
        "GET /api/v1/health (baseline)": ("/api/v1/health", False),
        "UI /devices": ("/devices", False),
        "UI /devices?xa= (one commune)": ("/devices?xa=x000", False),
        "GET /api/v1/devices": ("/api/v1/devices", True),
        "UI /bulletins": ("/bulletins", False),
        "GET /api/v1/bulletins": ("/api/v1/bulletins", True),
    }
    results = {}
    with serving(db, workdir) as base, requests.Session() as http:
        sign_in(http, base)
        bearer = {"Authorization": f"Bearer {token}"}
        for name, (path, api) in pages.items():
            print(f"measuring {name}: {args.warmup} warm-up + {args.requests} requests…", flush=True)
            results[name] = measure(http, base + path, args, counter, bearer if api else {})
    db.dispose()
    return results


def report(name: str, results: dict[str, dict[str, float]]) -> None:
    baseline = results["GET /api/v1/health (baseline)"]["p50"]
    print(f"\n== {name}")
    print(f"{'request':<32}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}", end="")
    print(f"{'p50/base':>10}{'KB':>7}{'SQL':>8}")
    for request, r in results.items():
        print(
            f"{request:<32}{r['n']:>4.0f}{r['p50'] * 1e3:>10.1f}{r['p95'] * 1e3:>10.1f}"
            f"{r['max'] * 1e3:>10.1f}{r['p50'] / baseline:>9,.0f}×"
            f"{r['bytes'] / 1024:>7,.0f}{r['statements']:>8,.0f}"
        )
    dashboard = results["UI /devices"]["p95"]
    print(
        f"devices dashboard p95 {dashboard * 1e3:.1f} ms, target ≤ {DASHBOARD_P95_S * 1e3:.0f} ms:",
        end=" ",
    )
    print(f"{dashboard / DASHBOARD_P95_S:.2f} × the target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--villages", type=int, default=300)
    parser.add_argument("--communes", type=int, default=30)
    parser.add_argument("--bulletins", type=int, default=400)
    parser.add_argument("--requests", type=int, default=50, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget", type=float, default=120, help="seconds per page before stopping early")
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on PostgreSQL; `auto` starts a throw-away one"
    )
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-") as tmp, ExitStack() as stack:
        backends = {"sqlite": f"sqlite:///{tmp}/bench.db"}
        if args.postgres:
            backends["postgresql"] = (
                stack.enter_context(running_postgres()) if args.postgres == "auto" else args.postgres
            )
        for name, url in backends.items():
            print(f"== {name}: {args.devices:,} clusters in {args.villages:,} villages", end=", ")
            print(f"{args.bulletins:,} bulletins")
            workdir = Path(tmp) / name
            workdir.mkdir()
            results[name] = run(url, args, workdir)
    for name, r in results.items():
        report(name, r)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
