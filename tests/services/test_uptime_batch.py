"""The batch uptime functions agree exactly with the per-device ones, on coverage written by real ingest."""

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from controller.config import DEFAULT_SCHEDULE
from controller.db.models import Device
from controller.planning import load_schedule, occurrences
from controller.services import (
    device_uptime,
    get_device,
    list_devices,
    provision_device,
    record_heartbeats,
    record_status,
)
from controller.services.devices import UPTIME_PERIODS
from controller.services.uptime import window_uptime
from protocol import Status
from tests.services.conftest import T0, World
from tests.services.test_ingest import heartbeat

INTERVAL = timedelta(minutes=10)  # coarse heartbeats keep 8 days of history quick to ingest
WEEK = timedelta(days=7)
NOW = T0 + timedelta(days=8, hours=3, minutes=17)


def _history(session: Session, rng: random.Random, device_id: str, start: datetime, outages: int) -> None:
    """Heartbeats every INTERVAL from `start` to NOW through the real ingest, with silent outages."""
    silent = sorted(start + (NOW - start) * rng.random() for _ in range(outages))
    beats, at, seq = [], start, 0
    while at <= NOW:
        if not any(s <= at < s + timedelta(minutes=rng.choice((30, 90, 300))) for s in silent):
            seq += 1
            beats.append((device_id, heartbeat(seq), at))
        at += INTERVAL
    record_heartbeats(session, beats, interval=INTERVAL)


@pytest.fixture
def fleet(session: Session, world: World) -> list[str]:
    """World's three clusters plus five more: steady, flaky, gone silent, cut by a will, new, never seen."""
    rng = random.Random(3)
    for n, village in enumerate(("lim", "cai", "lim", "cai"), start=4):
        provision_device(session, f"tl-c{n:02d}", T0, name=f"Cụm {n}", village_id=village)
    provision_device(session, "tl-new", NOW - timedelta(hours=30), name="Cụm mới", village_id="cai")
    _history(session, rng, "tl-c01", T0, outages=0)
    _history(session, rng, "tl-c02", T0, outages=25)
    _history(session, rng, "tl-c03", T0 + timedelta(days=2), outages=4)
    _history(session, rng, "tl-c04", T0, outages=60)
    record_status(session, "tl-c04", Status("online", bdseq=1, boot_id="b"), NOW - timedelta(days=3))
    record_status(session, "tl-c04", Status("offline", bdseq=1), NOW - timedelta(hours=5, minutes=3))
    _history(session, rng, "tl-new", NOW - timedelta(hours=20), outages=2)
    # tl-c05 stopped two days ago; tl-c06 and tl-c07 were never heard from.
    record_heartbeats(session, [("tl-c05", heartbeat(1), NOW - timedelta(days=2))], interval=INTERVAL)
    session.flush()
    return sorted(["tl-c01", "tl-c02", "tl-c03", "tl-c04", "tl-c05", "tl-c06", "tl-c07", "tl-new"])


def test_list_devices_matches_get_device_and_device_uptime(session: Session, fleet: list[str]) -> None:
    views = {v.id: v for v in list_devices(session, NOW)}
    assert sorted(views) == fleet
    for device_id in fleet:
        one = get_device(session, device_id, NOW)
        assert (views[device_id].uptime_24h, views[device_id].uptime_7d) == (one.uptime_24h, one.uptime_7d)
        assert views[device_id].metrics == one.metrics
        if device_id != "tl-new":  # judged on its own lifetime, not on the whole period
            for period, fraction in zip(UPTIME_PERIODS, (one.uptime_24h, one.uptime_7d), strict=True):
                assert fraction == device_uptime(session, device_id, NOW - period, NOW).fraction
    assert 0.0 < views["tl-c02"].uptime_7d < views["tl-c01"].uptime_7d == 1.0
    assert views["tl-c06"].uptime_24h == 0.0


def test_window_uptime_matches_per_window_device_uptime(session: Session, fleet: list[str]) -> None:
    windows = occurrences(load_schedule(DEFAULT_SCHEDULE), NOW - WEEK, NOW)
    batch = window_uptime(session, fleet, [(w.start, w.end) for w in windows], NOW)
    for device_id in fleet:
        created = session.get_one(Device, device_id).created_at
        covered, total = timedelta(), timedelta()
        for window in windows:  # one query per device and window; window time before provisioning not counted
            start, end = max(window.start, created), min(window.end, NOW)
            if end <= start:
                continue
            covered += (end - start) * device_uptime(session, device_id, start, end).fraction
            total += end - start
        assert batch[device_id] == (covered / total if total else None), device_id
    assert batch["tl-c01"] == 1.0 and batch["tl-c06"] == 0.0
    partly = batch["tl-c02"]
    assert partly is not None and 0.0 < partly < 1.0


def test_window_uptime_without_window_time(session: Session, fleet: list[str]) -> None:
    later = (NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    assert window_uptime(session, fleet[:2], [later], NOW) == {fleet[0]: None, fleet[1]: None}
    assert window_uptime(session, [], [later], NOW) == {}
