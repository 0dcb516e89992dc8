"""Ingesting births, wills, heartbeats and outbox events (DESIGN §5)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from controller.services import (
    NotFound,
    approve,
    create_bulletin,
    get_bulletin,
    get_device,
    list_plays,
    mark_silent_devices_offline,
    prune_events,
    record_event,
    record_heartbeat,
    record_status,
    submit,
)
from controller.services.deliveries import plan_delivery
from protocol import Event, Heartbeat, ProtocolError, Status
from tests.services.conftest import T0, World

BOOT = "boot-1"


def heartbeat(seq: int, boot_id: str = BOOT) -> Heartbeat:
    return Heartbeat(
        seq=seq,
        boot_id=boot_id,
        uptime_s=30 * seq,
        sent_at=T0,
        clock_synced=True,
        plan_version=3,
        assets_missing=0,
        amp_on=False,
        agent_version="0.1.0",
        cpu_temp_c=48.5,
        net={"type": "4g", "rssi": -71},
    )


def event(
    seq: int, kind: str, at: datetime, item: str = "b1-tl-c01", bulletin: int | None = None, **extra: str
) -> Event:
    return Event(seq=seq, type=kind, at=at, boot_id=BOOT, item_id=item, bulletin_id=bulletin, **extra)  # type: ignore[arg-type]


def approved_bulletin(session: Session, world: World) -> int:
    bulletin_id = create_bulletin(
        session, world.operator, T0, title="Tin", text="Nội dung", targets={"all": True}
    ).id
    submit(session, bulletin_id, world.operator, T0)
    approve(session, bulletin_id, world.approver, T0)
    for device in ("tl-c01", "tl-c02"):
        plan_delivery(
            session,
            T0,
            bulletin_id=bulletin_id,
            device_id=device,
            item_id=f"b{bulletin_id}-{device}",
            planned_start=T0,
        )
    return bulletin_id


def test_birth_sets_online_and_old_will_is_ignored(session: Session, world: World) -> None:
    assert record_status(session, "tl-c01", Status("online", bdseq=5, boot_id=BOOT, version="0.1.0"), T0)
    device = get_device(session, "tl-c01", T0)
    assert (device.online, device.bdseq, device.boot_id, device.agent_version, device.last_seen) == (
        True,
        5,
        BOOT,
        "0.1.0",
        T0,
    )
    # The will of the previous connection (bdseq 4) arrives after the new birth: ignored.
    assert not record_status(session, "tl-c01", Status("offline", bdseq=4), T0 + timedelta(seconds=1))
    assert get_device(session, "tl-c01", T0).online is True
    # The will of the current connection takes the device offline.
    assert record_status(session, "tl-c01", Status("offline", bdseq=5), T0 + timedelta(seconds=2))
    assert get_device(session, "tl-c01", T0).online is False
    # A stale retained birth of the same boot does not bring it back.
    record_status(session, "tl-c01", Status("online", bdseq=6, boot_id=BOOT), T0 + timedelta(seconds=3))
    assert not record_status(
        session, "tl-c01", Status("online", bdseq=5, boot_id=BOOT), T0 + timedelta(seconds=4)
    )
    assert get_device(session, "tl-c01", T0).bdseq == 6


def test_heartbeat_updates_liveness_and_metrics(session: Session, world: World) -> None:
    record_heartbeat(session, "tl-c01", heartbeat(1), T0 + timedelta(seconds=5))
    device = get_device(session, "tl-c01", T0)
    assert device.online and device.last_seen == T0 + timedelta(seconds=5)
    assert device.metrics is not None and device.metrics["net"] == {"type": "4g", "rssi": -71}
    assert (device.plan_version, device.agent_version, device.boot_id) == (3, "0.1.0", BOOT)
    # a straggler received earlier does not move last_seen back
    record_heartbeat(session, "tl-c01", heartbeat(0), T0)
    assert get_device(session, "tl-c01", T0).last_seen == T0 + timedelta(seconds=5)


def test_silent_devices_go_offline_after_coverage_ends(session: Session, world: World) -> None:
    record_heartbeat(session, "tl-c01", heartbeat(1), T0)
    record_heartbeat(session, "tl-c02", heartbeat(1), T0 + timedelta(seconds=60))
    assert mark_silent_devices_offline(session, T0 + timedelta(seconds=75)) == []
    assert mark_silent_devices_offline(session, T0 + timedelta(seconds=76)) == ["tl-c01"]
    assert get_device(session, "tl-c01", T0).online is False
    assert get_device(session, "tl-c02", T0).online is True
    assert (
        mark_silent_devices_offline(session, T0 + timedelta(minutes=10), interval=timedelta(minutes=5)) == []
    )


def test_unknown_device_is_not_found(session: Session, world: World) -> None:
    with pytest.raises(NotFound, match="Không có cụm loa ghost"):
        record_heartbeat(session, "ghost", heartbeat(1), T0)
    with pytest.raises(NotFound):
        record_status(session, "ghost", Status("online", bdseq=1), T0)
    with pytest.raises(NotFound):
        record_event(session, "ghost", event(1, "started", T0), T0)


def test_same_event_twice_counts_once(session: Session, world: World) -> None:
    bulletin_id = approved_bulletin(session, world)
    item = f"b{bulletin_id}-tl-c01"
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=1, seconds=40)
    assert record_event(session, "tl-c01", event(1, "started", start, item, bulletin_id), start)
    assert not record_event(session, "tl-c01", event(1, "started", start, item, bulletin_id), start)
    assert record_event(session, "tl-c01", event(2, "finished", end, item, bulletin_id), end)
    assert not record_event(session, "tl-c01", event(2, "finished", end, item, bulletin_id), end)
    plays = list_plays(session)
    assert [(p.device_id, p.bulletin_id, p.started_at, p.finished_at, p.status) for p in plays] == [
        ("tl-c01", bulletin_id, start, end, "finished")
    ]
    deliveries = {d.device_id: d for d in get_bulletin(session, bulletin_id).deliveries}
    assert (deliveries["tl-c01"].state, deliveries["tl-c01"].played_at) == ("played", end)
    assert deliveries["tl-c02"].state == "planned"


def test_delivery_moves_with_events(session: Session, world: World) -> None:
    bulletin_id = approved_bulletin(session, world)
    item = f"b{bulletin_id}-tl-c02"

    def state() -> tuple[str, str | None]:
        d = next(d for d in get_bulletin(session, bulletin_id).deliveries if d.device_id == "tl-c02")
        return d.state, d.reason

    record_event(session, "tl-c02", event(9, "received", T0, item), T0)
    assert state() == ("planned", None)  # received is not held: the audio may still be downloading
    record_event(session, "tl-c02", event(10, "asset_ready", T0, item), T0)
    assert state() == ("delivered", None)
    record_event(session, "tl-c02", event(12, "skipped", T0, item, reason="window_closed"), T0)
    assert state() == ("skipped", "window_closed")
    record_event(session, "tl-c02", event(11, "asset_ready", T0, item), T0)  # older than the skip: no effect
    assert state() == ("skipped", "window_closed")
    record_event(session, "tl-c02", event(13, "started", T0, item), T0)
    record_event(session, "tl-c02", event(14, "failed", T0, item, reason="player_error"), T0)
    assert state() == ("failed", "player_error")
    assert [(p.status, p.reason) for p in list_plays(session, device_id="tl-c02")] == [
        ("failed", "player_error")
    ]
    record_event(session, "tl-c02", event(15, "started", T0, item), T0)
    record_event(session, "tl-c02", event(16, "finished", T0 + timedelta(minutes=1), item), T0)
    assert state() == ("played", None)
    record_event(session, "tl-c02", event(17, "asset_failed", T0, item, reason="sha256_mismatch"), T0)
    assert state() == ("played", None)  # played stays played


def test_emergency_repeats_and_interruptions_each_logged(session: Session, world: World) -> None:
    bulletin_id = approved_bulletin(session, world)
    item = f"b{bulletin_id}-tl-c01"
    at = T0
    seq = 0
    for outcome in ("interrupted", "finished", "finished"):
        seq += 1
        record_event(session, "tl-c01", event(seq, "started", at, item), at)
        seq += 1
        record_event(session, "tl-c01", event(seq, outcome, at + timedelta(seconds=30), item), at)
        at += timedelta(minutes=1)
    plays = list_plays(session, bulletin_id=bulletin_id)
    assert [p.status for p in plays] == ["interrupted", "finished", "finished"]
    assert plays[0].reason is None


def test_end_before_start_makes_one_play(session: Session, world: World) -> None:
    bulletin_id = approved_bulletin(session, world)
    item = f"b{bulletin_id}-tl-c01"
    record_event(session, "tl-c01", event(2, "finished", T0 + timedelta(seconds=30), item), T0)
    record_event(session, "tl-c01", event(1, "started", T0, item), T0)
    plays = list_plays(session)
    assert [(p.started_at, p.finished_at, p.status, p.bulletin_id) for p in plays] == [
        (T0, T0 + timedelta(seconds=30), "finished", bulletin_id)
    ]


def test_event_for_unknown_bulletin_is_still_logged(session: Session, world: World) -> None:
    assert record_event(session, "tl-c03", event(1, "started", T0, "tone", 4242), T0)
    assert [(p.bulletin_id, p.item_id) for p in list_plays(session)] == [(None, "tone")]


def test_pruned_event_numbers(session: Session, world: World) -> None:
    record_event(session, "tl-c03", event(1, "received", T0, "x"), T0)
    record_event(session, "tl-c03", event(2, "received", T0, "x"), T0 + timedelta(days=30))
    assert prune_events(session, T0 + timedelta(days=1)) == 1
    assert record_event(session, "tl-c03", event(1, "received", T0, "x"), T0 + timedelta(days=31))
    assert not record_event(session, "tl-c03", event(2, "received", T0, "x"), T0 + timedelta(days=31))


def test_asset_events_name_no_item_but_move_every_delivery_using_the_asset(
    session: Session, world: World
) -> None:
    from controller.services import attach_audio, register_asset

    bulletin_id = approved_bulletin(session, world)
    sha = "c" * 64
    register_asset(session, T0, sha256=sha, size=1000, duration_ms=2000)
    attach_audio(session, bulletin_id, T0, language="vi", kind="tts", asset_sha256=sha)

    def states() -> dict[str, tuple[str, str | None]]:
        return {d.device_id: (d.state, d.reason) for d in get_bulletin(session, bulletin_id).deliveries}

    failed = Event(seq=20, type="asset_failed", at=T0, boot_id=BOOT, sha256=sha, reason="network")
    record_event(session, "tl-c01", failed, T0)
    assert states()["tl-c01"] == ("failed", "network")
    ready = Event(seq=21, type="asset_ready", at=T0, boot_id=BOOT, sha256=sha, plan_version=3)
    record_event(session, "tl-c01", ready, T0)
    assert states() == {"tl-c01": ("delivered", None), "tl-c02": ("planned", None)}
    other = Event(seq=22, type="asset_ready", at=T0, boot_id=BOOT, sha256="d" * 64)
    assert record_event(session, "tl-c02", other, T0)  # an asset no bulletin uses: logged, nothing moves
    assert states()["tl-c02"] == ("planned", None)


def test_a_batch_of_heartbeats_matches_one_by_one(session: Session, world: World) -> None:
    from controller.services import device_uptime, record_heartbeats

    beats = [("tl-c01", heartbeat(n), T0 + timedelta(seconds=30 * n)) for n in range(10)]
    beats += [("ghost", heartbeat(1), T0), ("tl-c02", heartbeat(1), T0)]
    beats += [("tl-c01", heartbeat(99), T0 + timedelta(seconds=1))]  # a straggler: metrics stay newer
    assert record_heartbeats(session, beats) == {"ghost"}
    c01 = get_device(session, "tl-c01", T0 + timedelta(minutes=5))
    assert c01.online and c01.last_seen == T0 + timedelta(seconds=270)
    assert c01.metrics is not None and c01.metrics["seq"] == 9
    report = device_uptime(session, "tl-c01", T0, T0 + timedelta(seconds=300))
    assert report.fraction == 1.0  # 270 s + 75 s of coverage reaches past 300 s
    assert get_device(session, "tl-c02", T0).online


def test_a_device_cannot_log_a_bulletin_never_sent_to_it(session: Session, world: World) -> None:
    """tl-c03 got no delivery of this bulletin: its as-run entry is refused, counted (issue 20, item 12)."""
    bulletin_id = approved_bulletin(session, world)
    with pytest.raises(ProtocolError) as refused:
        record_event(session, "tl-c03", event(1, "started", T0, "forged", bulletin_id), T0)
    assert refused.value.reason == "not_sent"
    assert list_plays(session) == []


@pytest.mark.parametrize(
    "at", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC), T0 - timedelta(days=400)]
)
def test_an_event_dated_far_from_its_arrival_is_refused(session: Session, world: World, at: datetime) -> None:
    bulletin_id = approved_bulletin(session, world)
    with pytest.raises(ProtocolError) as refused:
        record_event(session, "tl-c01", event(1, "started", at, f"b{bulletin_id}-tl-c01", bulletin_id), T0)
    assert refused.value.reason == "bad_time"
    assert list_plays(session) == []
