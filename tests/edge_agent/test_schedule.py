"""schedule.decide with explicit datetimes: windows in the plan's zone, priorities, repeats, late, skips."""

from datetime import UTC, datetime, timedelta

from edge_agent.schedule import Decision, Emergency, Progress, decide, play_span
from protocol import Asset, PlanBody, PlanItem, WindowSpec

A = Asset("a" * 64, 1000, 1500, "http://x/a.mp3")
B = Asset("b" * 64, 1000, 1500, "http://x/b.mp3")
READY = {A.sha256, B.sha256}
# 05:00–07:30 and 17:00–19:00 in Asia/Ho_Chi_Minh (UTC+7) are 22:00–00:30 (previous day) and 10:00–12:00 UTC.
WINDOWS = (WindowSpec("morning", "05:00:00", "07:30:00"), WindowSpec("evening", "17:00:00", "19:00:00"))


def utc(hour: int, minute: int = 0, second: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def mk(
    item_id: str, planned: datetime, *, priority: str = "normal", repeat: int = 1, **kw: object
) -> PlanItem:
    return PlanItem(
        item_id=item_id,
        bulletin_id=1,
        priority=priority,  # type: ignore[arg-type]
        asset=kw.pop("asset", A),  # type: ignore[arg-type]
        not_before=kw.pop("not_before", planned - timedelta(hours=1)),  # type: ignore[arg-type]
        not_after=kw.pop("not_after", planned + timedelta(hours=6)),  # type: ignore[arg-type]
        planned_start=planned,
        repeat=repeat,
        window=kw.pop("window", None),  # type: ignore[arg-type]
    )


def body(*items: PlanItem) -> PlanBody:
    return PlanBody(1, utc(0), "Asia/Ho_Chi_Minh", WINDOWS, items)


def run(
    plan: PlanBody | None, now: datetime, progress: dict[str, Progress] | None = None, **kw: object
) -> Decision:
    return decide(plan, kw.pop("emergencies", ()), now, progress or {}, ready=kw.pop("ready", READY), **kw)  # type: ignore[arg-type]


def test_window_is_read_in_the_plan_time_zone() -> None:
    item = mk("i", utc(10))  # 17:00 local
    assert play_span(body(item), item) == (utc(10), utc(12))
    early = mk("e", utc(9, 30))  # 16:30 local: the evening window is the first that can take it
    assert play_span(body(early), early) == (utc(10), utc(12))


def test_plays_at_planned_start_not_before() -> None:
    item = mk("i", utc(10, 5))
    assert run(body(item), utc(10, 4, 59)).play is None
    assert run(body(item), utc(10, 4, 59)).wake_at == utc(10, 5)
    assert run(body(item), utc(10, 5)).play == item


def test_late_item_plays_while_window_open_and_is_skipped_after() -> None:
    item = mk("i", utc(10, 5))
    assert run(body(item), utc(11, 59, 59)).play == item
    closed = run(body(item), utc(12))
    assert closed.play is None
    assert [(s.item.item_id, s.reason) for s in closed.skips] == [("i", "window_closed")]


def test_an_item_ending_with_its_window_is_skipped_as_window_closed() -> None:
    item = mk("i", utc(10, 5), not_after=utc(12))  # what the planner sends: not_after = the window's end
    assert [(s.item.item_id, s.reason) for s in run(body(item), utc(12, 1)).skips] == [("i", "window_closed")]


def test_expired_item_is_skipped_with_expired() -> None:
    item = mk("i", utc(10, 5), not_after=utc(10, 30))
    assert run(body(item), utc(10, 29)).play == item
    assert [(s.item.item_id, s.reason) for s in run(body(item), utc(10, 30)).skips] == [("i", "expired")]


def test_never_outside_a_window_even_inside_not_before_not_after() -> None:
    item = mk("i", utc(8), not_before=utc(7), not_after=utc(9))  # 15:00 local, no window until 17:00
    decision = run(body(item), utc(8, 30))
    assert decision.play is None
    assert [(s.reason) for s in decision.skips] == ["no_window"]


def test_priority_before_normal_and_never_two_at_once() -> None:
    normal = mk("n", utc(10, 0))
    urgent = mk("p", utc(10, 1), priority="priority", asset=B)
    assert run(body(normal, urgent), utc(10, 2)).play == urgent
    assert run(body(normal, urgent), utc(10, 2), playing="p").play is None


def test_repeat_then_done() -> None:
    item = mk("i", utc(10), repeat=2)
    assert run(body(item), utc(10, 1), {"i": Progress(plays=1)}).play == item
    done = run(body(item), utc(10, 1), {"i": Progress(plays=2)})
    assert done.play is None and done.skips == ()


def test_missing_asset_waits_and_is_skipped_when_the_window_closes() -> None:
    item = mk("i", utc(10))
    assert run(body(item), utc(10, 1), ready=set()).play is None
    assert [s.reason for s in run(body(item), utc(12, 0, 1), ready=set()).skips] == ["window_closed"]


def test_named_window_is_respected() -> None:
    # 05:30 local: the morning window is open, but the item names the evening one.
    item = mk("i", utc(22, 30, day=1), window="evening", not_after=utc(13))
    assert play_span(body(item), item) == (utc(10), utc(12))


def test_emergency_plays_outside_windows_and_interrupts() -> None:
    normal = mk("n", utc(10))
    urgent = Emergency(mk("e", utc(8), priority="emergency", asset=B), repeat=3, gap_s=5)
    outside = run(body(), utc(8), emergencies=[urgent])
    assert outside.play == urgent.item and outside.emergency
    during = run(body(normal), utc(10, 1), emergencies=[urgent], playing="n")
    assert during.play == urgent.item and during.emergency


def test_emergency_gap_holds_the_programme_then_it_resumes() -> None:
    normal = mk("n", utc(10))
    urgent = Emergency(mk("e", utc(10), priority="emergency", asset=B), repeat=2, gap_s=5)
    gap = run(body(normal), utc(10, 1, 2), {"e": Progress(1, utc(10, 1, 0))}, emergencies=[urgent])
    assert gap.play is None and gap.wake_at == utc(10, 1, 5)
    again = run(body(normal), utc(10, 1, 5), {"e": Progress(1, utc(10, 1, 0))}, emergencies=[urgent])
    assert again.play == urgent.item
    resumed = run(
        body(normal), utc(10, 1, 9), {"e": Progress(2, utc(10, 1, 8), "done")}, emergencies=[urgent]
    )
    assert resumed.play == normal


def test_closed_items_and_no_plan() -> None:
    item = mk("i", utc(10))
    assert run(body(item), utc(10, 1), {"i": Progress(closed="stopped")}).play is None
    assert run(None, utc(10)) == Decision(None, False, (), None)
