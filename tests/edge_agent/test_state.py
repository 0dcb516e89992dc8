"""The SQLite state survives a reopen: bdseq, seqs, plan, outbox order, progress, emergencies."""

from datetime import UTC, datetime
from pathlib import Path

from edge_agent.state import State

T = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_state_survives_reopen(tmp_path: Path) -> None:
    db = tmp_path / "agent.sqlite3"
    state = State(db)
    assert [state.next_bdseq(), state.next_bdseq()] == [1, 2]
    state.save_plan(7, 3, b"envelope")
    state.accept_command(4)
    first = state.add_event(lambda seq: f'{{"seq":{seq}}}')
    second = state.add_event(lambda seq: f'{{"seq":{seq}}}')
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
    assert again.add_event(str) == second + 1
    progress = again.progress()
    assert (progress["i"].plays, progress["i"].closed, progress["j"].closed) == (2, "done", "window_closed")
    assert [e.item_json for e in again.emergencies()] == [{"item_id": "e"}]
    assert again.volume(80) == 42
    again.close()
