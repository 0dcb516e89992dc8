"""The controller finds the events it never stored and asks for them at a bounded rate (issue 20, item 5).

Pure bookkeeping with time as an input; the integration test (tests/integration/test_event_resend.py)
runs it with the real broker and agent.
"""

from datetime import UTC, datetime, timedelta

from controller.mqtt.event_gaps import BUSY_PER_MINUTE, GRACE, RESYNC_EVERY, RESYNCS_BEFORE_LOST, EventGaps

T = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_a_hole_is_asked_for_after_the_grace_and_once_a_minute_at_most() -> None:
    gaps = EventGaps(lambda _d, _s: None)
    for seq in (1, 2, 5, 6):
        gaps.seen("c01", seq, T)
    assert gaps.due(T) == [], "events may still arrive out of order"
    assert gaps.due(T + GRACE) == [("c01", 3)]
    assert gaps.due(T + GRACE + RESYNC_EVERY / 2) == [], "at most one resync per device per minute"
    assert gaps.due(T + GRACE + RESYNC_EVERY) == [("c01", 3)]
    gaps.seen("c01", 3, T + GRACE + RESYNC_EVERY)
    gaps.seen("c01", 4, T + GRACE + RESYNC_EVERY)
    assert gaps.due(T + GRACE + 3 * RESYNC_EVERY) == []
    assert gaps.health()["missing_from"] == {}
    assert gaps.resyncs_sent == 2 and not gaps.lost


def test_a_hole_that_moves_on_still_waits_a_minute_from_the_last_resync() -> None:
    gaps = EventGaps(lambda _d, _s: None)
    for seq in (1, 5, 9):
        gaps.seen("c01", seq, T)
    assert gaps.due(T + GRACE) == [("c01", 2)]
    for seq in (2, 3, 4):  # the resend filled the first hole; the one at 6 remains
        gaps.seen("c01", seq, T + GRACE)
    assert gaps.due(T + 3 * GRACE) == [], "at most one resync per device per minute, whatever the hole"
    assert gaps.due(T + GRACE + RESYNC_EVERY) == [("c01", 6)]


def test_a_hole_before_the_controller_started_is_found_from_the_stored_seqs() -> None:
    gaps = EventGaps(lambda device, seq: 40 if (device, seq) == ("c01", 50) else None)
    gaps.seen("c01", 50, T)
    assert gaps.due(T + GRACE) == [("c01", 41)]


def test_a_device_seen_first_knows_no_hole_below_its_first_event() -> None:
    gaps = EventGaps(lambda _d, _s: None)
    gaps.seen("c01", 900, T)  # older events pruned, or stored before the retention
    assert gaps.due(T + GRACE) == []


def test_a_hole_still_open_after_the_resyncs_is_counted_lost_and_left_behind() -> None:
    gaps = EventGaps(lambda _d, _s: None)
    for seq in (1, 4, 5, 7):
        gaps.seen("c01", seq, T)
    at = T + GRACE
    for _ in range(RESYNCS_BEFORE_LOST):
        assert gaps.due(at) == [("c01", 2)]
        at += RESYNC_EVERY
    assert gaps.due(at) == [], "given up: the agent no longer holds seqs 2–3"
    assert gaps.lost == {"c01": 2}
    assert gaps.health()["missing_from"] == {"c01": 6}, "the next hole is asked for on its own"
    assert gaps.due(at + GRACE) == [("c01", 6)]


def test_a_device_above_its_share_of_events_per_minute_is_shown() -> None:
    gaps = EventGaps(lambda _d, _s: None)
    for seq in range(1, BUSY_PER_MINUTE + 2):
        gaps.seen("c01", seq, T)
    gaps.seen("c02", 1, T)
    gaps.seen("c01", BUSY_PER_MINUTE + 2, T + timedelta(minutes=1))
    gaps.seen("c02", 2, T + timedelta(minutes=1))
    assert gaps.health()["busy_per_minute"] == {"c01": BUSY_PER_MINUTE + 1}
    gaps.seen("c01", BUSY_PER_MINUTE + 3, T + timedelta(minutes=2))
    assert gaps.health()["busy_per_minute"] == {}, "a quiet minute clears it"
    for seq in range(BUSY_PER_MINUTE + 4, 2 * BUSY_PER_MINUTE + 6):
        gaps.seen("c01", seq, T + timedelta(minutes=3))
    gaps.seen("c01", 2 * BUSY_PER_MINUTE + 6, T + timedelta(minutes=4))
    assert gaps.health()["busy_per_minute"] == {"c01": BUSY_PER_MINUTE + 2}
    gaps.due(T + timedelta(minutes=6))
    assert gaps.health()["busy_per_minute"] == {}, "a device silent since is no longer shown"
