"""Airing decoded PCM: the speaker's timeline, the dead-air check on every block, and a bulletin file's play.

Owns `Air` (what was written when, checked block by block before it leaves for the output) and the notes a
play leaves for the agent (`started` with the URL, `gap`, `dead_air`). A bulletin file plays to its end;
one that cannot be decoded holds its slot as broken air (the planner reserved it) and fails. It must not
choose what to play, emit events or write state: the agent turns notes into events.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Literal

from edge_agent.clock import Clock
from edge_agent.decoder import Decoder
from edge_agent.pcm import BLOCK_S, SILENCE, BlockState, DeadAir, DeadAirWatch, classify
from edge_agent.pcm_out import PcmOutput
from protocol.messages import DeadAirKind

NoteKind = Literal["started", "gap", "dead_air"]
Outcome = Literal["finished", "interrupted", "failed"]
# How long a file decoder may take to give its first audio before the play starts anyway (as broken air).
_FILE_START_S: Final = 2.0
# A file whose decoder reported errors still counts as played when it decoded all but this much.
_FILE_SLACK_S: Final = 1.0


@dataclass(frozen=True)
class Note:
    """Something a play saw, for the agent to report: the stream it started on, a gap, dead air."""

    kind: NoteKind
    url: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    reason: str | None = None
    detail: str | None = None
    dead_air: DeadAirKind | None = None


@dataclass(frozen=True)
class Result:
    """How a PCM play ended (`interrupted` only when cancelled: the agent knows why)."""

    outcome: Outcome
    reason: str | None = None
    detail: str | None = None


class Air:
    """The speaker's timeline for one play: each block is checked (dead air), written, and timed."""

    def __init__(
        self,
        output: PcmOutput,
        clock: Clock,
        notify: Callable[[Note], None],
        dead_air_s: float,
        ending: threading.Event | None = None,
    ) -> None:
        self._output = output
        self._clock = clock
        self.note = notify
        # Set when the play should end once the audio it already received has aired (a stream's buffer):
        # a live session's end, spoken before the stop, still reaches the listeners.
        self.ending = ending if ending is not None else threading.Event()
        self.t0 = clock.now()
        self.blocks = 0
        self.watch = DeadAirWatch(dead_air_s, self._dead_air)

    @property
    def at(self) -> datetime:
        """When the next block airs."""
        return self.t0 + timedelta(seconds=self.blocks * BLOCK_S)

    def wait_s(self) -> float:
        """How long a caller may wait for the next block: none when the speaker is already waiting for it.

        On a loaded machine the loop can fall behind the speaker; waiting then would let it fall further.
        """
        return BLOCK_S if self.at > self._clock.now() else 0.0

    def over(self, end: datetime) -> bool:
        """True once the play reached `end`, by the speaker's timeline or the wall clock (never later)."""
        return self.at >= end or self._clock.now() >= end

    @property
    def elapsed_s(self) -> float:
        """Seconds aired so far."""
        return self.blocks * BLOCK_S

    def air(self, block: bytes | None) -> BlockState:
        """Check and write one block (None: nothing decoded to air, silence goes out instead)."""
        state = classify(block)
        self.watch.block(self.at, state)
        self._output.write(SILENCE if block is None else block)
        self.blocks += 1
        return state

    def finish(self) -> None:
        """Close the dead-air check at the end of the play."""
        self.watch.close(self.at)

    def _dead_air(self, span: DeadAir) -> None:
        self.note(
            Note("dead_air", start=span.start, end=span.end, dead_air=span.kind,
                 detail="ongoing" if span.ongoing else None)
        )  # fmt: skip


def air_file(
    path: Path,
    duration_ms: int,
    air: Air,
    clock: Clock,
    cancel: threading.Event,
) -> Result:
    """Decode a bulletin file and air it; a file that cannot be decoded holds its slot, then fails."""
    decoder = Decoder(path, clock)
    slot_s = duration_ms / 1000
    try:
        decoder.wait_primed(_FILE_START_S)
        while not cancel.is_set():
            if decoder.drained:
                if decoder.clean or decoder.decoded_s >= slot_s - _FILE_SLACK_S:
                    return Result("finished")
                if air.elapsed_s >= slot_s:
                    return Result("failed", "decode_error", decoder.error_text or "no audio decoded")
            air.air(decoder.take(air.wait_s()))
        return Result("interrupted")
    finally:
        decoder.close()
        air.finish()
