"""The SQLite state survives a reopen: bdseq, seqs, plan, outbox order, progress, emergencies."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import edge_agent.state
from edge_agent.intake import Intake
from edge_agent.state import KEEP_SENT_EVENTS, KEEP_SENT_FOR, State
from protocol import Verifier
from protocol.signing import load_public_key_b64
from protocol.timefmt import format_utc
from tests.edge_agent.support import DEVICE, Keys, plan, window

T = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_state_survives_reopen(tmp_path: Path) -> None:
    db = tmp_path / "agent.sqlite3"
    state = State(db)
    assert [state.next_bdseq(), state.next_bdseq()] == [1, 2]
    state.save_plan(7, 3, b"envelope")
    state.accept_command(4)
    first = state.add_event(lambda seq: f'{{"seq":{seq}}}', T)
    second = state.add_event(lambda seq: f'{{"seq":{seq}}}', T)
    state.mark_sent(first)
    state.record_play("i", T, done=False)
    state.record_play("i", T, done=True)
    state.close_item("j", "window_closed")
    state.add_emergency({"item_id": "e"}, 3, 5.0)
    state.set_volume(42)
    state.close()

    again = State(db)
    assert again.next_bdseq() == 3
    assert (again.last_seq("plan"), again.last_seq("cmd")) == (7, 4)
    assert again.plan_envelope() == b"envelope"
    assert again.unsent_events(10) == [(second, f'{{"seq":{second}}}')]
    assert again.add_event(str, T) == second + 1
    progress = again.progress()
    assert (progress["i"].plays, progress["i"].closed, progress["j"].closed) == (2, "done", "window_closed")
    assert [e.item_json for e in again.emergencies()] == [{"item_id": "e"}]
    assert again.volume(80) == 42
    again.close()


def _filled(path: Path) -> None:
    state = State(path)
    state.save_plan(9, 9, b"envelope" * 200)
    state.accept_command(1_700_000_000_000)
    for n in range(300):

        def event(seq: int, n: int = n) -> str:
            return f'{{"seq":{seq},"pad":"{"x" * 200}{n}"}}'

        state.add_event(event, T)
    state.close()


def test_a_truncated_state_file_is_set_aside_and_rebuilt_keeping_the_replay_floors(tmp_path: Path) -> None:
    """A damaged SD card must not keep the agent from starting (issue 20, items 7 and 17)."""
    db = tmp_path / "agent.sqlite3"
    _filled(db)
    with db.open("r+b") as file:
        file.truncate(db.stat().st_size // 2)
    state = State(db)
    assert state.rebuilt is not None and "agent.sqlite3" in state.rebuilt
    assert list(tmp_path.glob("agent.sqlite3.corrupt-*")), "the damaged file is kept for a look"
    assert state.plan_envelope() is None, "the retained plan on the broker fills it again"
    assert (state.last_seq("plan"), state.last_seq("cmd")) == (9, 1_700_000_000_000), (
        "an older genuine plan or command replayed after the loss is still refused"
    )
    assert state.add_event(str, T) == 301, "event seqs go on: the controller stores each (device, seq) once"
    state.close()
    assert State(db).rebuilt is None, "the new file is sound"


def test_garbage_in_place_of_the_state_file_is_rebuilt(tmp_path: Path) -> None:
    db = tmp_path / "agent.sqlite3"
    db.write_bytes(b"not a database at all" * 100)
    state = State(db)
    assert state.rebuilt is not None
    assert state.last_seq("plan") == 0
    state.close()


def test_after_losing_the_state_an_older_genuine_plan_is_refused_and_the_retained_one_taken(
    tmp_path: Path,
) -> None:
    """Replay protection survives the loss of the state file (issue 20, item 17)."""
    keys = Keys()
    db = tmp_path / "agent.sqlite3"
    windows = [window("w", T, T + timedelta(hours=1))]
    older, retained = keys.plan(4, plan(4, windows, [])), keys.plan(5, plan(5, windows, []))
    state = State(db)
    gate = Intake(Verifier([load_public_key_b64(keys.public_b64)], DEVICE), state)
    assert gate.plan(older) is not None and gate.plan(retained) is not None
    state.close()
    for lost in tmp_path.glob("agent.sqlite3*"):
        if not lost.name.endswith(".floors"):
            lost.unlink()  # the card lost the database; the small side file stayed
    fresh = State(db)
    gate = Intake(Verifier([load_public_key_b64(keys.public_b64)], DEVICE), fresh)
    assert gate.plan(older) is None and gate.rejections() == {"plan.replayed": 1}
    assert gate.plan(retained) is not None, "the retained plan fills the new state"
    assert gate.plan(retained) is None, "then it is the retained copy again"
    fresh.close()


def _event_at(at: datetime) -> Callable[[int], str]:
    return lambda seq: json.dumps({"seq": seq, "at": format_utc(at)})


def test_sent_events_are_kept_for_a_resend_within_the_retention(tmp_path: Path) -> None:
    """A controller that never stored some events gets them again (issue 20, item 5): sent events stay
    held, the newest KEEP_SENT_EVENTS and at most KEEP_SENT_FOR old."""
    state = State(tmp_path / "agent.sqlite3")
    old = T - KEEP_SENT_FOR - timedelta(minutes=1)
    stale = state.add_event(_event_at(old), old)
    seqs = [state.add_event(_event_at(T), T) for _ in range(5)]
    for seq in [stale, *seqs]:
        state.mark_sent(seq)
    assert state.unsent_events(10) == []
    state.add_event(_event_at(T), T)  # prunes what is older than the retention
    assert state.held_events() == (seqs[0], seqs[-1] + 1)
    assert state.resend_events(seqs[2]) == 3, "sent events from seqs[2] on, not the unsent newest one"
    assert [seq for seq, _ in state.unsent_events(10)] == [*seqs[2:], seqs[-1] + 1]
    assert state.resend_events(stale) == 2, "seqs[0] and seqs[1]: the pruned one is gone"
    state.close()


def test_at_most_keep_sent_events_are_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert KEEP_SENT_EVENTS == 10_000  # the rule; a smaller count below keeps the test quick on an SD card
    monkeypatch.setattr(edge_agent.state, "KEEP_SENT_EVENTS", 20)
    state = State(tmp_path / "agent.sqlite3")
    for _ in range(23):
        state.mark_sent(state.add_event(_event_at(T), T))
    assert state.held_events() == (4, 23)
    state.close()
