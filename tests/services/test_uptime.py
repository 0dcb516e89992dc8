"""Uptime from heartbeat coverage: each heartbeat covers [t, t + 2.5 × interval]."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db import DeviceCoverage
from controller.services import (
    NotFound,
    ValidationFailed,
    device_uptime,
    record_heartbeat,
    record_status,
)
from protocol import Status
from tests.services.conftest import T0, World
from tests.services.test_ingest import heartbeat


def beat(session: Session, device: str, start_s: int, end_s: int, step_s: int = 30) -> None:
    for n, offset in enumerate(range(start_s, end_s + 1, step_s)):
        record_heartbeat(session, device, heartbeat(n), T0 + timedelta(seconds=offset))


def test_gap_between_two_runs(session: Session, world: World) -> None:
    beat(session, "tl-c01", 0, 600)  # 10 min of heartbeats, then 20 min of silence
    beat(session, "tl-c01", 1800, 2400)  # 10 min again
    report = device_uptime(session, "tl-c01", T0, T0 + timedelta(minutes=40))
    # covered: [0, 675] and [1800, 2400] (the last span's tail lies beyond the period)
    assert report.fraction == pytest.approx((675 + 600) / 2400)
    assert report.fraction == pytest.approx(0.53, abs=0.01)
    assert [(g.start - T0, g.end - T0) for g in report.gaps] == [
        (timedelta(seconds=675), timedelta(seconds=1800))
    ]
    # two spans stored, not one row per heartbeat
    assert session.scalar(select(func.count()).select_from(DeviceCoverage)) == 2


def test_period_before_and_after_coverage(session: Session, world: World) -> None:
    beat(session, "tl-c02", 600, 1200)
    report = device_uptime(session, "tl-c02", T0, T0 + timedelta(minutes=40))
    assert report.fraction == pytest.approx((1275 - 600) / 2400)
    assert [(g.start - T0, g.end - T0) for g in report.gaps] == [
        (timedelta(0), timedelta(seconds=600)),
        (timedelta(seconds=1275), timedelta(minutes=40)),
    ]
    assert device_uptime(session, "tl-c03", T0, T0 + timedelta(hours=1)).fraction == 0.0


def test_missed_heartbeats_within_coverage_are_no_gap(session: Session, world: World) -> None:
    beat(session, "tl-c01", 0, 600, step_s=60)  # every other heartbeat lost: 60 s < 75 s coverage
    report = device_uptime(session, "tl-c01", T0, T0 + timedelta(seconds=600))
    assert report.fraction == 1.0
    assert report.gaps == ()


def test_will_cuts_coverage(session: Session, world: World) -> None:
    record_status(session, "tl-c01", Status("online", bdseq=1, boot_id="boot-1"), T0)
    beat(session, "tl-c01", 0, 300)
    record_status(session, "tl-c01", Status("offline", bdseq=1), T0 + timedelta(seconds=310))
    report = device_uptime(session, "tl-c01", T0, T0 + timedelta(seconds=620))
    assert report.fraction == pytest.approx(0.5)


def test_uptime_errors(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed, match="Ngày kết thúc phải sau ngày bắt đầu"):
        device_uptime(session, "tl-c01", T0, T0)
    with pytest.raises(NotFound):
        device_uptime(session, "nope", T0, T0 + timedelta(hours=1))


def test_a_new_device_is_judged_on_its_own_lifetime(session: Session, world: World) -> None:
    from controller.services import get_device

    beat(session, "tl-c01", 0, 3600)  # provisioned at T0, up for the hour since
    device = get_device(session, "tl-c01", T0 + timedelta(hours=1))
    assert device.uptime_24h == pytest.approx(1.0)
    assert device.uptime_7d == pytest.approx(1.0)
    assert get_device(session, "tl-c02", T0 + timedelta(hours=1)).uptime_24h == 0.0
