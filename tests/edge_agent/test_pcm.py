"""The level check and the dead-air rule on PCM blocks (edge_agent.pcm), and the live/stream wire shapes."""

from datetime import UTC, datetime, timedelta

import pytest

from edge_agent.live import LiveSession
from edge_agent.pcm import BLOCK_BYTES, BLOCK_S, SILENCE, DeadAir, DeadAirWatch, classify
from protocol import Command, ProtocolError

T0 = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)


def square(amplitude: int) -> bytes:
    """A block of a 441 Hz square wave at `amplitude` (of 32767)."""
    return b"".join(
        (amplitude if (i // 25) % 2 else -amplitude).to_bytes(2, "little", signed=True)
        for i in range(BLOCK_BYTES // 2)
    )


@pytest.mark.parametrize(
    ("block", "state"),
    [
        (None, "broken"),
        (SILENCE, "silent"),
        (square(80), "silent"),  # -52 dBFS: hiss on a quiet line
        (square(120), "audio"),  # -49 dBFS
        (square(16000), "audio"),
    ],
)
def test_blocks_are_audio_silent_or_broken(block: bytes | None, state: str) -> None:
    assert classify(block) == state


def run(watch: DeadAirWatch, states: list[str], start: int = 0) -> None:
    for i, state in enumerate(states, start):
        watch.block(T0 + timedelta(seconds=i * BLOCK_S), state)  # type: ignore[arg-type]


def test_a_run_past_the_limit_is_reported_as_it_crosses_and_when_it_ends() -> None:
    seen: list[DeadAir] = []
    watch = DeadAirWatch(2.0, seen.append)
    run(watch, ["audio"] * 3 + ["silent"] * 15 + ["broken"] * 10 + ["audio"])
    crossing, end = seen
    assert (crossing.start, crossing.ongoing) == (T0 + timedelta(seconds=0.3), True)
    assert crossing.end - crossing.start > timedelta(seconds=2) and crossing.kind == "silent"
    assert (end.start, end.end, end.kind, end.ongoing) == (
        T0 + timedelta(seconds=0.3), T0 + timedelta(seconds=2.8), "silent", False,
    )  # fmt: skip


def test_short_pauses_are_not_dead_air_and_a_play_end_closes_a_run() -> None:
    seen: list[DeadAir] = []
    watch = DeadAirWatch(2.0, seen.append)
    run(watch, (["silent"] * 19 + ["audio"]) * 3)  # speech pauses just under the limit
    assert seen == []
    run(watch, ["broken"] * 25, start=60)
    watch.close(T0 + timedelta(seconds=8.5))
    assert [(d.kind, d.ongoing, d.end) for d in seen] == [
        ("broken", True, T0 + timedelta(seconds=8.1)), ("broken", False, T0 + timedelta(seconds=8.5)),
    ]  # fmt: skip
    assert watch.over_limit is False


def test_live_commands_read_back_and_bad_ones_are_refused() -> None:
    on_air = T0 - timedelta(hours=1)
    start = Command(
        "live_start", session="L1", urls=("http://c/live/L1",), not_after=T0, volume=60, start_at=on_air
    )
    assert Command.from_json(start.to_json()) == start
    live = LiveSession.from_command(start)
    assert live is not None and live.job().start_at == on_air  # every agent airs from the on-air instant
    older = {k: v for k, v in start.to_json().items() if k != "start_at"}  # an older controller's
    assert Command.from_json(older).start_at is None
    stop = Command("live_stop", session="L1")
    assert Command.from_json(stop.to_json()) == stop
    good = start.to_json()
    for bad in (
        {**good, "not_after": None},
        {**good, "urls": []},
        {**good, "urls": ["rtmp://c/live"]},
        {**good, "start_at": "soon"},
        {k: v for k, v in good.items() if k != "session"},
        {"command": "live_stop"},
    ):
        with pytest.raises(ProtocolError):
            Command.from_json(bad)
