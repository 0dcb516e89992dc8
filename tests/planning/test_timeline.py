"""A village's timeline: window occurrences with what is placed in them and what overflowed."""

from controller.planning import PlanningInputs, PlanningRules, Timeline, current_or_next, plan, timeline
from tests.planning.builders import DEFAULT, bulletin, device, local


def test_the_timeline_shows_placements_overflow_and_unplaced_bulletins_of_the_chosen_devices() -> None:
    hour = 3600
    bulletins = (
        bulletin(1, seconds=hour, devices=("c01", "c02")),
        bulletin(2, seconds=hour, devices=("c01",)),
        bulletin(3, seconds=hour, devices=("c01",)),
        bulletin(4, seconds=4 * hour, devices=("c01",)),
    )
    result = plan(PlanningInputs(bulletins, (device("c01"), device("c02")), PlanningRules()), local(22, 4))
    view = timeline(result, DEFAULT, ["c01"], local(22, 0), local(23, 0))
    assert isinstance(view, Timeline)
    morning, evening = view.windows
    assert morning.window == current_or_next(DEFAULT, local(22, 4))
    assert [(p.bulletin_id, p.device_id) for p in morning.placed] == [(1, "c01"), (2, "c01")]
    assert [d.bulletin_id for d in morning.deferred] == [3]
    assert [(p.bulletin_id, p.window.name) for p in evening.placed] == [(3, "evening")]
    assert [(d.bulletin_id, d.reason) for d in view.unplaced] == [(4, "too_long")]
