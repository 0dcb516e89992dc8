"""The agent's PCM format and what it measures on it: levels per block and dead air (issue 13, item 4).

Everything the agent airs through the PCM path is signed 16-bit little-endian mono at `RATE`, cut in blocks
of `BLOCK_S`. Owns that format, the level check (pure Python over `array`: no numpy on a Pi) and the rule
for dead air: a run of silent (below `SILENT_DBFS`) or broken (no decoded audio) blocks longer than a limit.
It must not start processes, play or report: callers pass each block in and get `DeadAir` spans back.
"""

import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import mul
from typing import Final, Literal

from protocol.messages import DeadAirKind

# 22.05 kHz mono: a horn loudspeaker carries ~300 Hz–7 kHz, and half the CD rate halves the decoder's,
# the pipe's and the level check's work on a Pi (44 kB/s).
RATE: Final = 22050
SAMPLE_BYTES: Final = 2
BLOCK_S: Final = 0.1
BLOCK_BYTES: Final = int(RATE * BLOCK_S) * SAMPLE_BYTES
SILENCE: Final = bytes(BLOCK_BYTES)
SILENT_DBFS: Final = -50.0
# Mean square of full scale at SILENT_DBFS; comparing mean squares saves a square root per block.
_SILENT_MS: Final = (32768 * 10 ** (SILENT_DBFS / 20)) ** 2
# Every 4th sample: the mean square of a decimated block estimates the whole block's, at a quarter the work.
_STRIDE: Final = 4

BlockState = Literal["audio", "silent", "broken"]


def mean_square(block: bytes) -> float:
    """The mean square of a block's samples (every `_STRIDE`th), 0.0 for an empty block."""
    samples = array("h")
    samples.frombytes(block[: len(block) - len(block) % SAMPLE_BYTES])
    if sys.byteorder == "big":
        samples.byteswap()
    picked = samples[::_STRIDE]
    if not picked:
        return 0.0
    total: int = sum(map(mul, picked, picked))
    return total / len(picked)


def classify(block: bytes | None) -> BlockState:
    """`broken` when no decoded audio was there to air, `silent` below SILENT_DBFS, else `audio`."""
    if block is None:
        return "broken"
    return "silent" if mean_square(block) < _SILENT_MS else "audio"


@dataclass(frozen=True)
class DeadAir:
    """A span of dead air; `ongoing` when reported as it crossed the limit (reported again at its end)."""

    start: datetime
    end: datetime
    kind: DeadAirKind
    ongoing: bool


class DeadAirWatch:
    """Follows the blocks as they air and calls `report` when a run of non-audio passes `limit_s`.

    A run is reported twice: once when it crosses the limit (so an alert need not wait for its end) and
    once when audio comes back or the play ends, with its whole span. Its kind is what most of it was.
    """

    def __init__(self, limit_s: float, report: Callable[[DeadAir], None]) -> None:
        self._limit = limit_s
        self._report = report
        self._start: datetime | None = None
        self._silent_s = 0.0
        self._broken_s = 0.0
        self._reported = False

    def block(self, at: datetime, state: BlockState) -> None:
        """One block of `BLOCK_S` that airs from `at`."""
        if state == "audio":
            self.close(at)
            return
        if self._start is None:
            self._start = at
        if state == "silent":
            self._silent_s += BLOCK_S
        else:
            self._broken_s += BLOCK_S
        end = at + timedelta(seconds=BLOCK_S)
        if not self._reported and (end - self._start).total_seconds() > self._limit:
            self._reported = True
            self._report(DeadAir(self._start, end, self.kind, ongoing=True))

    @property
    def kind(self) -> DeadAirKind:
        """What most of the current run was."""
        return "broken" if self._broken_s >= self._silent_s else "silent"

    @property
    def over_limit(self) -> bool:
        """True once the current run of non-audio passed the limit (and was reported)."""
        return self._reported

    def close(self, at: datetime) -> None:
        """End the current run at `at` (audio came back or the play ended)."""
        if self._start is not None and self._reported:
            self._report(DeadAir(self._start, at, self.kind, ongoing=False))
        self._start, self._silent_s, self._broken_s, self._reported = None, 0.0, 0.0, False
