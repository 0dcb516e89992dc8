"""Planner: time to plan a province (≈ 3,000 clusters in 170 communes, a week of bulletins).

Measured side by side in one run against a baseline: serializing the same plans to canonical JSON (what
publishing them costs anyway), so the ratio says how much the planning itself adds.

    .venv/bin/python bench/bench_planner.py [--communes 170] [--clusters 18] [--per-day 2] [--days 7]
"""

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller.config import DEFAULT_SCHEDULE
from controller.planning import (
    AudioVersion,
    PlannedBulletin,
    PlannedDevice,
    PlanningInputs,
    PlanningRules,
    load_schedule,
    plan,
)
from controller.planning.options import BulletinSchedule
from protocol import Asset, canonical_json

NOW = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)  # 04:00 in Tú Lệ, an hour before the morning window


def asset(n: int, rng: random.Random) -> Asset:
    return Asset(
        sha256=f"{n:064x}", bytes=500_000, duration_ms=rng.randint(40_000, 180_000), url="http://c/a"
    )


def build(communes: int, clusters: int, per_day: int, days: int) -> PlanningInputs:
    rng = random.Random(7)
    schedule = load_schedule(DEFAULT_SCHEDULE)
    devices, bulletins = [], []
    for c in range(communes):
        ids = [f"x{c:03d}-c{k:02d}" for k in range(clusters)]
        languages = frozenset(rng.sample(["thai", "mong", "dao"], k=rng.randint(0, 2)))
        devices += [PlannedDevice(device_id=d, languages=languages, schedule=schedule) for d in ids]
        for day in range(days):
            for _ in range(per_day):
                n = len(bulletins) + 1
                versions = [AudioVersion("vi", asset(2 * n, rng))]
                if languages and rng.random() < 0.3:
                    versions.append(AudioVersion(sorted(languages)[0], asset(2 * n + 1, rng)))
                bulletins.append(
                    PlannedBulletin(
                        bulletin_id=n,
                        priority="priority" if rng.random() < 0.1 else "normal",
                        approved_at=NOW - timedelta(minutes=n % 600),
                        device_ids=frozenset(ids),
                        versions=tuple(versions),
                        schedule=BulletinSchedule(
                            dates=frozenset({date(2026, 11, 23) + timedelta(days=day)})
                        ),
                    )
                )
        if c % 20 == 0:
            print(f"\rbuilding inputs: commune {c + 1}/{communes}", end="", flush=True)
    print(f"\rbuilding inputs: {len(devices):,} clusters, {len(bulletins):,} bulletins" + " " * 20)
    return PlanningInputs(tuple(bulletins), tuple(devices), PlanningRules(horizon=2 * days + 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=170)
    parser.add_argument("--clusters", type=int, default=18)
    parser.add_argument("--per-day", type=int, default=2)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    inputs = build(args.communes, args.clusters, args.per_day, args.days)
    print("planning…", flush=True)
    started = time.perf_counter()
    result = plan(inputs, NOW)
    planning_s = time.perf_counter() - started
    items = sum(len(d.items) for d in result.devices)
    print("serializing the same plans (baseline)…", flush=True)
    started = time.perf_counter()
    size = sum(len(canonical_json(d.plan_body(1, NOW).to_json())) for d in result.devices)
    baseline_s = time.perf_counter() - started
    print()
    print(f"clusters {len(inputs.devices):,}  bulletins {len(inputs.bulletins):,}  plan items {items:,}")
    print(f"placements {len(result.placements):,}  deferred {len(result.deferred):,}", end="  ")
    print(f"plan JSON {size / 1e6:.1f} MB")
    print(f"{'planning':<28}{planning_s:>8.2f} s")
    print(f"{'serializing (baseline)':<28}{baseline_s:>8.2f} s")
    print(f"{'planning / serializing':<28}{planning_s / baseline_s:>8.1f} ×")


if __name__ == "__main__":
    main()
