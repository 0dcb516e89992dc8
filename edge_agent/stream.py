"""Airing a stream slot (relay) or a live session from ordered URLs, falling back and recovering.

Owns the fallback order and its timing (issue 13, item 2): when the stream airing stalls (no bytes for
`stall_s`), ends early or fails, the next URL is tried, then the last one (by convention the controller's
relay of the same station), then the item's filler in a loop, all within 10 s; the URLs are tried again
with backoff while the slot lasts, and the stream replaces the filler as soon as one answers. Every outage
of at least `min_gap_s` becomes a `gap` note. A relay stops at its slot's end; a live session also ends when
it has aired nothing audible for the dead-air limit, or could not join within `live_join_s`. Stream audio
airs by its arrival time, one playout delay after the source made it and from the job's common start on
(edge_agent.playout), so that agents within earshot air it together. It must not choose what to play or
report events.
"""

import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from edge_agent.airing import Air, Note, Result
from edge_agent.clock import Clock
from edge_agent.decoder import Decoder
from edge_agent.pcm import BLOCK_S
from edge_agent.playout import Timeline
from protocol.urls import is_hls


@dataclass(frozen=True)
class StreamSettings:
    """Timings of stream airing; the defaults keep a failover (stall to next audio) under 10 s."""

    # The playout delay D, the jitter buffer: stream audio airs D after the source made it, on every agent
    # alike. It must exceed the connection and decoder start plus the network's jitter.
    playout_delay_s: float = 2.0
    stall_s: float = 2.0  # no bytes this long (and the buffer run low): the source stalled
    connect_s: float = 3.0  # no audio this long after opening a URL: try the next
    # The same for the last URL (a live session's one mount, a relay's controller fallback): a slow start
    # (a busy CPU, a 4G link, an on-demand relay connecting upstream) is waited for instead of being started
    # again from nothing, and a relay's filler airs meanwhile from `connect_s` on; a dead connection still
    # ends sooner (ffmpeg's own 5 s without a byte).
    lone_connect_s: float = 10.0
    retry_s: tuple[float, ...] = (2.0, 5.0, 10.0, 30.0)  # backoff between rounds over every URL
    live_retry_s: tuple[float, ...] = (1.0, 2.0, 4.0)  # a live session's: it is short and starts now
    min_gap_s: float = 0.3  # shorter outages are not reported
    # A live session's listeners join as the streaming server lets them in, and a busy server may refuse
    # some at first: an agent keeps trying this long before it gives up on a session it has not aired yet;
    # once it aired, the dead-air limit ends it as before.
    live_join_s: float = 60.0


@dataclass(frozen=True)
class StreamJob:
    """What to air: URLs in order, until `ends_at`; a relay may loop a filler file; live ends on silence.

    `start_at` is the common start: the source's audio from that instant airs, from `start_at` + the
    playout delay (a relay slot's planned start, a live session's on-air instant); None airs what comes.
    """

    urls: tuple[str, ...]
    ends_at: datetime
    filler: Path | None = None
    live: bool = False
    start_at: datetime | None = None


def _fallbacks(failed: int, count: int) -> list[int]:
    """The URLs to try right after URL `failed`: the next, then the last (the controller's relay)."""
    return [i for i in dict.fromkeys((failed + 1, count - 1)) if failed < i < count]


class _Outage:
    """The stream is not airing: since when, and which URL failed first, and why."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.url: str | None = None
        self.reason: str | None = None
        self.filler_s = 0.0

    def lost(self, url: str, reason: str) -> None:
        if self.url is None:
            self.url, self.reason = url, reason


class StreamAiring:
    """One stream slot or live session on the air; `run()` blocks until it ends or `cancel` is set."""

    def __init__(
        self,
        job: StreamJob,
        air: Air,
        clock: Clock,
        settings: StreamSettings,
    ) -> None:
        self._job = job
        self._air = air
        self._clock = clock
        self._notify = air.note
        self._settings = settings
        self._queue = _fallbacks(0, len(job.urls))
        self._index = 0
        self._active: Decoder | None = None  # opened by run()
        self._filler: Decoder | None = None
        self._filler_path = job.filler
        self._round = 0
        self._probing = False  # the URLs are being tried again while the filler airs
        self._retry_at = 0.0
        self._outage: _Outage | None = _Outage(air.at)
        self._began = air.at
        self._started = False
        self._stream_until = air.at  # the end of the last stream block aired (where an outage begins)
        self._failures: list[str] = []
        self._ends_at: datetime | None = None  # once `air.ending` is set: when what was received has aired

    def _open(self, index: int) -> Decoder:
        self._index = index
        start = self._job.start_at
        url = self._job.urls[index]
        timeline = Timeline(
            self._settings.playout_delay_s,
            start_at=None if start is None else start.timestamp(),
            aligned=not is_hls(url),
        )
        return Decoder(url, self._clock, timeline=timeline)

    def _failed(self, decoder: Decoder) -> bool:
        if decoder.drained:
            return True
        if decoder.last_data is None:
            return decoder.silent_for() > self._connect_limit_s()
        return decoder.silent_for() > self._settings.stall_s and decoder.ahead_s() <= 0

    def _connect_limit_s(self) -> float:
        """How long the URL on trial may take to send audio: longer when no other URL waits its turn."""
        return self._settings.connect_s if self._queue else self._settings.lone_connect_s

    def _slow_to_start(self, decoder: Decoder) -> bool:
        """True while a URL kept past `connect_s` (the last one) has still sent no audio."""
        return decoder.last_data is None and decoder.silent_for() > self._settings.connect_s

    def run(self, cancel: threading.Event) -> Result:
        """Air until the slot ends (finished), the live source is gone (finished/interrupted) or `cancel`."""
        try:
            self._active = self._open(0)
            while not cancel.is_set():
                if self._air.over(self._job.ends_at):
                    return self._result()
                if self._air.ending.is_set() and self._air.over(self._ending_at()):
                    return Result("interrupted")
                if self._job.live and not self._started and self._joining_s() > self._settings.live_join_s:
                    return self._result()
                if self._job.live and self._started and self._air.watch.over_limit:
                    silent = self._air.watch.kind == "silent"
                    return Result("interrupted", "silent") if silent else Result("finished", "source_ended")
                self._check_active()
                self._air_block()
            return Result("interrupted")
        finally:
            self._close()

    def _ending_at(self) -> datetime:
        """When the audio received before the play was asked to end has aired (at most one playout delay).

        Fixed when first asked: a source that keeps sending does not keep the play going.
        """
        if self._ends_at is None:
            active = self._active
            ahead = 0.0 if active is None else max(0.0, active.ahead_s())
            self._ends_at = self._air.at + timedelta(seconds=min(ahead, self._settings.playout_delay_s))
        return self._ends_at

    def _joining_s(self) -> float:
        """Seconds since this airing began (before its first audio: how long the agent has tried)."""
        return (self._air.at - self._began).total_seconds()

    def _result(self) -> Result:
        if self._started:
            return Result("finished")
        return Result("failed", "no_stream", "; ".join(self._failures)[-1000:] or None)

    def _check_active(self) -> None:
        active = self._active
        if active is None:
            if self._clock.monotonic() >= self._retry_at and not self._air.ending.is_set():
                self._queue = list(range(1, len(self._job.urls)))
                self._probing = True
                self._active = self._open(0)
            return
        if not self._failed(active):
            return
        reason = active.failure()
        self._failures.append(f"{active.source}: {reason}")
        active.close()
        if self._outage is None:  # the stream was airing: the outage began where its last block ended
            self._outage = _Outage(self._stream_until)
        self._outage.lost(active.source, reason)
        if self._queue and not self._air.ending.is_set():
            self._active = self._open(self._queue.pop(0))
            return
        self._active = None
        backoff = self._settings.live_retry_s if self._job.live else self._settings.retry_s
        # Spread by ±50 %: agents refused together (a busy server) do not all come back in the same second.
        wait = backoff[min(self._round, len(backoff) - 1)] * random.uniform(0.5, 1.5)  # noqa: S311
        self._retry_at = self._clock.monotonic() + wait
        self._round += 1

    def _air_block(self) -> None:
        active = self._active
        block = None if active is None else active.block_at(self._air.at.timestamp(), self._air.wait_s())
        if active is not None and block is not None:
            if self._filler is not None:
                self._filler.close()
                self._filler = None
            self._stream_airs(active.source)
            self._air.air(block)
            self._stream_until = self._air.at
            return
        # The filler airs once the fallbacks are used up, while the URLs are tried again, and while the last
        # URL is slow to start.
        waiting = active is None or self._probing or self._slow_to_start(active)
        filler = self._filler_decoder() if waiting else None
        block = None if filler is None else filler.take(self._air.wait_s())
        if block is not None and self._outage is not None:
            if not self._started:
                self._started = True
                self._notify(Note("started", detail="filler; " + "; ".join(self._failures)))
            self._outage.filler_s += BLOCK_S
        self._air.air(block)

    def _filler_decoder(self) -> Decoder | None:
        """The filler, reopened at its end (a loop); None when there is none or it cannot be decoded."""
        if self._filler is not None and self._filler.drained:
            clean = self._filler.decoded_s > 0
            self._filler.close()
            self._filler = None
            if not clean:
                self._filler_path = None
        if self._filler is None and self._filler_path is not None:
            self._filler = Decoder(self._filler_path, self._clock)
        return self._filler

    def _stream_airs(self, url: str) -> None:
        """Stream audio airs again: say so once, and close the outage it ends."""
        if not self._started:
            self._started = True
            self._notify(Note("started", url=url, detail="; ".join(self._failures) or None))
        self._round, self._probing = 0, False
        self._queue = _fallbacks(self._index, len(self._job.urls))
        outage = self._outage
        if outage is None:
            return
        self._outage = None
        self._report(outage, f"resumed from {url}")

    def _report(self, outage: _Outage, how: str) -> None:
        length = (self._air.at - outage.start).total_seconds()
        if outage.url is None or length < self._settings.min_gap_s:
            return
        filler = f"; filler {outage.filler_s:.1f} s" if outage.filler_s else ""
        self._notify(
            Note("gap", url=outage.url, start=outage.start, end=self._air.at, reason=outage.reason,
                 detail=how + filler)
        )  # fmt: skip

    def _close(self) -> None:
        for decoder in (self._active, self._filler):
            if decoder is not None:
                decoder.close()
        if self._outage is not None:
            self._report(self._outage, "slot ended")
        self._air.finish()
