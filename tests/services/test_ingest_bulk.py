"""Heartbeats stored in bulk (Core statements) give the same rows as one by one, and as the ORM rules.

`record_heartbeats` writes devices and coverage spans with executemany statements instead of the ORM
unit of work (issue 8). The reference below is the ORM version it replaced, kept here as the oracle with
the coverage rules of DESIGN §5, so any difference in liveness, metrics or coverage shows up here.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import Device, DeviceCoverage
from controller.services import record_heartbeat, record_heartbeats, record_status
from controller.services.uptime import COVERAGE_FACTOR
from protocol import Heartbeat, Status
from tests.services.conftest import T0, World

Beats = Sequence[tuple[str, Heartbeat, datetime]]
INTERVAL = timedelta(seconds=30)
DEVICES = ("tl-c01", "tl-c02", "tl-c03", "ghost")


def heartbeat(seq: int) -> Heartbeat:
    return Heartbeat(
        seq=seq, boot_id=f"boot-{seq % 3}", uptime_s=30 * seq, sent_at=T0, clock_synced=True,
        plan_version=seq % 5, assets_missing=0, amp_on=seq % 2 == 0, agent_version=f"0.{seq % 4}",
        cpu_temp_c=40 + seq / 10, net={"type": "4g", "rssi": -70 - seq % 9},
    )  # fmt: skip


def latest_spans(session: Session, device_ids: Iterable[str]) -> dict[str, DeviceCoverage]:
    """The newest coverage span of each device that has one (one query for all)."""
    ids = list(device_ids)
    newest = (
        select(DeviceCoverage.device_id, func.max(DeviceCoverage.end_at).label("end_at"))
        .where(DeviceCoverage.device_id.in_(ids))
        .group_by(DeviceCoverage.device_id)
        .subquery()
    )
    rows = session.scalars(
        select(DeviceCoverage).join(
            newest,
            (DeviceCoverage.device_id == newest.c.device_id) & (DeviceCoverage.end_at == newest.c.end_at),
        )
    )
    return {span.device_id: span for span in rows}


def extend_spans(
    session: Session,
    latest: dict[str, DeviceCoverage],
    device_id: str,
    received_at: datetime,
    interval: timedelta,
) -> None:
    """Extend `latest[device_id]` with a heartbeat received at `received_at`, or open a new span."""
    end = received_at + interval * COVERAGE_FACTOR
    span = latest.get(device_id)
    if span is None or received_at > span.end_at:
        latest[device_id] = DeviceCoverage(device_id=device_id, start_at=received_at, end_at=end)
        session.add(latest[device_id])
    elif received_at >= span.start_at:
        span.end_at = max(span.end_at, end)
    # else: a straggler older than the newest span, whose own span is already closed


def orm_reference(session: Session, beats: Beats) -> set[str]:
    """The ORM unit-of-work version of record_heartbeats, as it was before the bulk statements."""
    ids = {device_id for device_id, _, _ in beats}
    devices = {d.id: d for d in session.scalars(select(Device).where(Device.id.in_(ids)))}
    latest = latest_spans(session, devices)
    with session.no_autoflush:
        for device_id, hb, received_at in beats:
            device = devices.get(device_id)
            if device is None:
                continue
            extend_spans(session, latest, device_id, received_at, INTERVAL)
            if device.last_seen is not None and received_at < device.last_seen:
                continue
            device.online, device.last_seen = True, received_at
            device.metrics = hb.to_json()
            device.boot_id, device.plan_version = hb.boot_id, hb.plan_version
            device.agent_version = hb.agent_version
    session.flush()
    return ids - devices.keys()


def bulk(session: Session, beats: Beats) -> set[str]:
    return record_heartbeats(session, beats, interval=INTERVAL)


def one_by_one(session: Session, beats: Beats) -> set[str]:
    unknown = set()
    for device_id, hb, received_at in beats:
        if device_id == "ghost":
            unknown.add(device_id)
            continue
        record_heartbeat(session, device_id, hb, received_at, interval=INTERVAL)
    return unknown


def rows(session: Session) -> tuple[list[Any], list[Any]]:
    """Every device's liveness fields and every coverage span, read without the ORM identity map."""
    devices = session.execute(
        select(
            Device.id, Device.online, Device.last_seen, Device.metrics, Device.boot_id,
            Device.plan_version, Device.agent_version,
        ).order_by(Device.id)
    )  # fmt: skip
    spans = session.execute(
        select(DeviceCoverage.device_id, DeviceCoverage.start_at, DeviceCoverage.end_at).order_by(
            DeviceCoverage.device_id, DeviceCoverage.start_at
        )
    )
    return [tuple(r) for r in devices], [tuple(r) for r in spans]


def outcome(
    session: Session, before: Beats, batch: Beats, store: Callable[[Session, Beats], set[str]]
) -> tuple[set[str], tuple[list[Any], list[Any]]]:
    """Rows after storing `before` in bulk then `batch` with `store`; the session is rolled back after."""
    savepoint = session.begin_nested()
    try:
        record_heartbeats(session, before, interval=INTERVAL)
        unknown = store(session, batch)
        session.flush()
        return unknown, rows(session)
    finally:
        savepoint.rollback()
        session.expire_all()


# Receive times in seconds after T0, in any order: gaps over 75 s open spans, older ones are stragglers.
BEATS = st.lists(st.tuples(st.sampled_from(DEVICES), st.integers(0, 400), st.integers(0, 50)), max_size=40)


def as_beats(drawn: list[tuple[str, int, int]]) -> Beats:
    return [(device, heartbeat(seq), T0 + timedelta(seconds=at)) for device, at, seq in drawn]


@given(before=BEATS, batch=BEATS)
# A loaded span grows, then a gap opens a new one in the same batch: both must be written.
@example(before=[("tl-c01", 0, 1)], batch=[("tl-c01", 30, 2), ("tl-c01", 300, 3), ("tl-c01", 310, 4)])
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_bulk_one_by_one_and_orm_reference_store_the_same_rows(
    session: Session, world: World, before: list[tuple[str, int, int]], batch: list[tuple[str, int, int]]
) -> None:
    first, second = as_beats(before), as_beats(batch)
    expected = outcome(session, first, second, orm_reference)
    assert outcome(session, first, second, bulk) == expected
    assert outcome(session, first, second, one_by_one) == expected


def test_rows_loaded_in_the_session_are_read_afresh_after_bulk_writes(session: Session, world: World) -> None:
    assert record_status(session, "tl-c01", Status("online", bdseq=5, boot_id="boot-1"), T0)
    device = session.get(Device, "tl-c01")
    assert device is not None and device.boot_id == "boot-1"
    record_heartbeats(session, [("tl-c01", heartbeat(1), T0 + timedelta(seconds=1))], interval=INTERVAL)
    span = session.scalars(select(DeviceCoverage).where(DeviceCoverage.device_id == "tl-c01")).one()
    record_heartbeats(session, [("tl-c01", heartbeat(2), T0 + timedelta(seconds=31))], interval=INTERVAL)
    assert (device.last_seen, device.boot_id) == (T0 + timedelta(seconds=31), "boot-2")
    assert span.end_at == T0 + timedelta(seconds=106)
    # A retained birth of the heartbeats' boot with an older bdseq is stale: seen only with the fresh boot_id.
    assert not record_status(session, "tl-c01", Status("online", bdseq=4, boot_id="boot-2"), T0)


def test_pending_orm_changes_are_flushed_before_bulk_statements(session: Session, world: World) -> None:
    record_status(session, "tl-c02", Status("online", bdseq=3, boot_id="b"), T0 + timedelta(seconds=50))
    record_heartbeats(session, [("tl-c02", heartbeat(4), T0)], interval=INTERVAL)  # older: a straggler
    device = session.get(Device, "tl-c02")
    assert device is not None
    assert (device.last_seen, device.bdseq, device.metrics) == (T0 + timedelta(seconds=50), 3, None)
