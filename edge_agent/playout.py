"""Arrival-time playout of a stream (issue 13, item 5): every agent airs the same audio at the same instant.

A station or a live mount sends a burst on connect, then its audio at the rate the source makes it, so the
wall-clock instant a piece of audio was produced can be estimated from when it arrived: over a few seconds,
the minimum of (arrival time − stream position) is the least-delayed sample, as NTP keeps the least-delayed
of its exchanges. Stream position p then airs at produced(p) + D, one fixed playout delay for every agent.
Agents that joined at different points of the stream, or whose decoders started at different moments, air
the same sound together, to within their clocks and the least network delay each one sees.

Owns the estimate (`ArrivalEstimator`) and the PCM timeline (`Timeline`): what was received, by stream
position, and which samples fill the speaker's block that airs at a given instant, on the sample (silence
before the stream's first sample or its common start, and where the stream has nothing). Time is an input:
callers pass arrival and air instants (wall-clock seconds). It must not read clocks, start processes, wait
or decide about failover (edge_agent.stream, edge_agent.decoder).
"""

import math
from collections import deque
from typing import Final

from edge_agent.pcm import BLOCK_BYTES, RATE, SAMPLE_BYTES

BLOCK_SAMPLES: Final = BLOCK_BYTES // SAMPLE_BYTES


class ArrivalEstimator:
    """When the source produced stream sample 0 (plus the least network delay), from arrivals over a window.

    `feed(arrival, end)` says that samples up to `end` (exclusive) had arrived at `arrival`. Bytes never
    arrive before the source made them, so every (arrival − end / RATE) lies on or above the true line; the
    smallest over the last `window_s` of stream audio is the estimate. A burst on connect arrives early
    for its position and only its last, live-edge part sets the minimum. The window is counted in stream
    audio, not wall-clock time, so a source that delivers in bursts (HLS segments every 6–10 s) keeps the
    minimum its last segment's end set while the next burst begins; a source that paused still moves the
    estimate later once `window_s` of its new audio has arrived.
    """

    def __init__(self, window_s: float) -> None:
        self._window = round(window_s * RATE)
        # (end, offset) with both increasing: a sliding-window minimum in amortised O(1) per feed.
        self._samples: deque[tuple[int, float]] = deque()

    def feed(self, arrival: float, end: int) -> None:
        """Samples [0, end) had arrived by `arrival` (wall-clock seconds)."""
        offset = arrival - end / RATE
        while self._samples and self._samples[-1][1] >= offset:
            self._samples.pop()
        self._samples.append((end, offset))
        while self._samples[0][0] < end - self._window:
            self._samples.popleft()

    @property
    def origin(self) -> float | None:
        """The estimated production instant of sample 0 (wall-clock seconds), None before any arrival."""
        return self._samples[0][1] if self._samples else None


class Timeline:
    """One connection's decoded audio by stream position, and the block that airs at a given instant.

    Sample p airs at `origin + p / RATE + delay_s`, `origin` being the estimator's. While the stream airs,
    the origin follows the estimate only when it moved earlier by more than `earlier_s` (a less-delayed
    arrival showed the first estimate was late: the agent skips that much) or later by more than
    `later_s` (the window forgot an old minimum: the source paused or its clock is slow, and the agent
    pads that much with silence); smaller wanderings would otherwise click. With `start_at`, audio the
    source made before that instant is not aired: the stream's first sample airs at `start_at + delay_s`
    on every agent. At most `cap_s` of audio is held (`full`): past that the reader waits, as for a file
    sent faster than real time.

    A segmented source (HLS: `aligned` False) cannot be timed by arrival: its segments arrive in bursts, a
    whole segment late for their first sample, and each agent polls the playlist at its own moments. It
    airs as a jitter buffer instead: from the first sample held once `prefill_s` is held (not before
    `start_at + delay_s`), in order, never skipping what was received; an underrun airs silence and moves
    what follows later by as much.
    """

    def __init__(
        self,
        delay_s: float,
        *,
        start_at: float | None = None,
        window_s: float = 4.0,
        earlier_s: float = 0.003,
        later_s: float = 0.01,
        cap_s: float = 40.0,
        aligned: bool = True,
        prefill_s: float = 1.0,
    ) -> None:
        self.delay_s = delay_s
        self.aligned = aligned
        self._prefill = round(prefill_s * RATE)
        self._start_at = start_at
        self._earlier_s, self._later_s = earlier_s, later_s
        self._cap = int(cap_s * RATE)
        self._estimator = ArrivalEstimator(window_s)
        self._pcm = bytearray()
        self._odd = b""  # half a sample left over from the last read
        self._base = 0  # stream position of _pcm[0]
        self._origin: float | None = None  # the origin the blocks follow
        self.airing = False  # the last block held stream audio
        self.realigned = 0  # moves of the origin while the stream aired

    @property
    def end(self) -> int:
        """The stream position after the last sample received."""
        return self._base + len(self._pcm) // SAMPLE_BYTES

    @property
    def full(self) -> bool:
        """True when `cap_s` of audio waits to air: the reader should wait."""
        return self.end - self._base >= self._cap

    def append(self, data: bytes, arrival: float) -> None:
        """Decoded PCM (s16le mono at RATE) that arrived at `arrival` (wall-clock seconds)."""
        data = self._odd + data
        whole = len(data) - len(data) % SAMPLE_BYTES
        self._odd = data[whole:]
        if whole:
            self._pcm += data[:whole]
            self._estimator.feed(arrival, self.end)

    def _follow(self, at: float) -> float | None:
        """The origin to air by: the estimate, kept steady within the tolerances once the stream airs."""
        if not self.aligned:
            return self._buffered(at)
        estimate = self._estimator.origin
        if estimate is None:
            return None
        if self._origin is None or not self.airing:
            self._origin = estimate
        elif not -self._earlier_s <= estimate - self._origin <= self._later_s:
            self._origin = estimate
            self.realigned += 1
        return self._origin

    def _buffered(self, at: float) -> float | None:
        """A segmented source's origin: set when the first block airs, moved later by every underrun."""
        if self._origin is None:
            if self.end - self._base < self._prefill or (
                self._start_at is not None and at < self._start_at + self.delay_s
            ):
                return None
            self._origin = at - self._base / RATE - self.delay_s  # the first sample held airs now
        return self._origin

    def _position(self, origin: float, at: float) -> int:
        """The stream position that airs at `at`."""
        return round((at - origin - self.delay_s) * RATE)

    def _first(self, origin: float) -> int:
        """The first position that may air: the source's audio from `start_at` on."""
        if self._start_at is None or not self.aligned:
            return self._base
        return max(self._base, math.ceil((self._start_at - origin) * RATE))

    def block(self, at: float) -> bytes | None:
        """The block that airs from `at`: stream samples where it has them, silence around them.

        None when the block holds no stream audio (not started yet, nothing received for it: an underrun).
        What lies before the block's end is dropped: its time has passed.
        """
        origin = self._follow(at)
        if origin is None:
            return None
        first = self._position(origin, at)
        lo = max(first, self._first(origin))
        hi = min(first + BLOCK_SAMPLES, self.end)
        if not self.aligned and hi < first + BLOCK_SAMPLES:  # an underrun: what is missing airs later
            self._origin = origin + (first + BLOCK_SAMPLES - max(hi, first)) / RATE
        out = None
        if hi > lo:
            pcm = self._pcm[(lo - self._base) * SAMPLE_BYTES : (hi - self._base) * SAMPLE_BYTES]
            out = (
                bytes((lo - first) * SAMPLE_BYTES) + pcm + bytes((first + BLOCK_SAMPLES - hi) * SAMPLE_BYTES)
            )
        self._drop(first + BLOCK_SAMPLES)
        self.airing = out is not None
        return out

    def _drop(self, before: int) -> None:
        cut = min(max(0, before - self._base), len(self._pcm) // SAMPLE_BYTES)
        del self._pcm[: cut * SAMPLE_BYTES]
        self._base += cut

    def waiting(self, at: float) -> bool:
        """True when the stream airs and the block at `at` needs samples not received yet (worth a wait)."""
        origin = self._origin
        return self.airing and origin is not None and self.end < self._position(origin, at) + BLOCK_SAMPLES

    def ahead_s(self, now: float) -> float:
        """Seconds of received audio that air at `now` or later (0 before the origin is known)."""
        if not self.aligned and self._origin is None:
            return (self.end - self._base) / RATE
        origin = self._origin if self._origin is not None else self._estimator.origin
        if origin is None:
            return 0.0
        lo = max(self._position(origin, now), self._first(origin))
        return max(0, self.end - lo) / RATE
