"""One ffmpeg decoder: a file or stream URL into the agent's PCM format, through a bounded (jitter) buffer.

Inputs are whatever ffmpeg reads: MP3/AAC over HTTP, Icecast, HLS, files. Owns the decoder process, its
reader threads and the buffer, and what it can tell about its input: when bytes last came, whether it
ended, how (exit code, decode errors). A file is taken block by block in order; a stream goes into a
`Timeline` with the wall-clock time each piece arrived (edge_agent.playout), which says what airs when.
It must not decide what to do about a stall or a failure (that is edge_agent.stream), play, or report
anything.
"""

import logging
import os
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import IO, Final

from edge_agent.clock import Clock
from edge_agent.pcm import BLOCK_BYTES, BLOCK_S, RATE
from edge_agent.playout import Timeline

log = logging.getLogger(__name__)
# ffmpeg gives up on a connection that sends nothing for this long (the agent usually gives up sooner).
_RW_TIMEOUT_US: Final = 5_000_000
_PROBE_BYTES: Final = 4096


def decoder_argv(source: str | Path) -> list[str]:
    """The ffmpeg command that decodes `source` to raw PCM on stdout."""
    network = isinstance(source, str) and source.startswith(("http://", "https://"))
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
        *(["-rw_timeout", str(_RW_TIMEOUT_US)] if network else []),
        # Each decoded frame leaves at once (not when ffmpeg's 32 KB output buffer fills): a stream's
        # arrival times are what its playout is timed by.
        *(["-flush_packets", "1"] if network else []),
        # A small probe: MP3 and AAC frames say what they are in a few hundred bytes, and ffmpeg's default
        # (5 MB or 5 s) would hold the first sound of a 32 kbit/s stream back by most of a second. The
        # format probe has its own limit (1 MiB): a stream joined mid-frame, as a station's burst begins,
        # scores low until ffmpeg has seen 200 MP3 frames, 7 s of a 32 kbit/s station.
        "-probesize", str(_PROBE_BYTES), "-formatprobesize", str(_PROBE_BYTES), "-analyzeduration", "0",
        "-i", str(source), "-vn", "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-",
    ]  # fmt: skip


class Decoder:
    """Decodes one source in a child process; `take()` hands out blocks of `BLOCK_S` in order.

    The buffer holds at most `buffer_s` of audio (2 s by default, for a file): when it is full the reader
    stops reading, so ffmpeg (and through TCP the server) waits. `primed` is set once `prefill_s` (0.3 s)
    is buffered or the input ended.
    With a `timeline` (a stream), audio goes there as it arrives instead, and `block_at()` hands out the
    block that airs at an instant.
    """

    def __init__(
        self,
        source: str | Path,
        clock: Clock,
        *,
        buffer_s: float = 2.0,
        prefill_s: float = 0.3,
        timeline: Timeline | None = None,
    ) -> None:
        self.source = str(source)
        self._clock = clock
        self._timeline = timeline
        self._capacity = max(1, round(buffer_s / BLOCK_S))
        self._prefill = max(1, round(prefill_s / BLOCK_S))
        self._blocks: deque[bytes] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.started_at = clock.monotonic()
        self.last_data: float | None = None  # monotonic time of the newest bytes
        self.ended = False
        self.primed = False
        self.errors = 0
        self.error_text = ""
        self.returncode: int | None = None
        self.decoded_s = 0.0
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                decoder_argv(source), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self._proc = None
            self.ended, self.primed, self.returncode = True, True, -1
            self.error_text = f"cannot start ffmpeg: {exc}"
            return
        out, err = self._proc.stdout, self._proc.stderr  # both PIPE: never None
        self._threads = [
            threading.Thread(target=self._read, args=(out,), name="loaxa-decode", daemon=True),
            threading.Thread(target=self._errors, args=(err,), name="loaxa-decode-err", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read(self, out: IO[bytes] | None) -> None:
        if out is None:
            return
        if self._timeline is not None:
            self._read_timed(out, self._timeline)
            return
        while True:
            block = out.read(BLOCK_BYTES)
            with self._cond:
                if not block or self._closed:
                    break
                self.last_data = self._clock.monotonic()
                self.decoded_s += len(block) / (2 * RATE)
                self._blocks.append(block)
                if len(self._blocks) >= self._prefill:
                    self.primed = True
                self._cond.notify_all()
                while len(self._blocks) >= self._capacity and not self._closed:
                    self._cond.wait()
        self._exited()

    def _read_timed(self, out: IO[bytes], timeline: Timeline) -> None:
        """A stream: each piece as ffmpeg writes it (its arrival time is when it came), into the timeline."""
        fd = out.fileno()
        while True:
            data = os.read(fd, BLOCK_BYTES)
            arrival = self._clock.now().timestamp()
            with self._cond:
                if not data or self._closed:
                    break
                self.last_data = self._clock.monotonic()
                self.decoded_s += len(data) / (2 * RATE)
                timeline.append(data, arrival)
                self.primed = True
                self._cond.notify_all()
                while timeline.full and not self._closed:
                    self._cond.wait()
        self._exited()

    def _exited(self) -> None:
        code = self._proc.wait() if self._proc is not None else -1
        with self._cond:
            self.returncode = code
            self.ended = self.primed = True
            self._cond.notify_all()

    def _errors(self, err: IO[bytes] | None) -> None:
        if err is None:
            return
        for raw in err:
            line = raw.decode(errors="replace").strip()
            with self._cond:
                self.errors += 1
                self.error_text = line[-300:]

    def take(self, timeout: float) -> bytes | None:
        """The next block once primed, waiting up to `timeout` s; None when none is there (an underrun).

        After an underrun the buffer fills to `prefill_s` again before it gives out more (a jitter buffer
        that stutters once rather than on every late packet).
        """
        with self._cond:
            if not self.primed:
                self._cond.wait(timeout)
            if not self.primed or not self._blocks:
                self.primed = self.ended
                return None
            block = self._blocks.popleft()
            self._cond.notify_all()
            return block

    def block_at(self, at: float, timeout: float) -> bytes | None:
        """A stream's block that airs from `at` (wall-clock seconds), None when it holds no stream audio.

        While the stream airs and the block's samples have not all come, waits up to `timeout` s for them.
        """
        timeline = self._require_timeline()
        with self._cond:
            if timeout > 0:
                self._cond.wait_for(lambda: self.ended or not timeline.waiting(at), timeout)
            block = timeline.block(at)
            self._cond.notify_all()
            return block

    def ahead_s(self) -> float:
        """A stream's received audio that airs from now on, in seconds."""
        timeline = self._require_timeline()
        with self._cond:
            return timeline.ahead_s(self._clock.now().timestamp())

    def _require_timeline(self) -> Timeline:
        if self._timeline is None:
            raise RuntimeError(f"{self.source} is decoded as a file, not timed as a stream")
        return self._timeline

    def wait_primed(self, timeout: float) -> bool:
        """Wait until the buffer is primed (or the input ended); True when it is."""
        with self._cond:
            return self._cond.wait_for(lambda: self.primed, timeout)

    @property
    def drained(self) -> bool:
        """True when the input ended and every block was taken (a stream: no audio left to air)."""
        if self._timeline is not None:
            return self.ended and self.ahead_s() <= 0
        with self._cond:
            return self.ended and not self._blocks

    @property
    def clean(self) -> bool:
        """True when ffmpeg exited 0 and reported no decoding error."""
        return self.returncode == 0 and self.errors == 0

    def silent_for(self) -> float:
        """Seconds since the last bytes came (since the start when none came yet)."""
        since = self.started_at if self.last_data is None else self.last_data
        return self._clock.monotonic() - since

    def failure(self) -> str:
        """A short reason for the `gap` event: why this source gave no (more) audio."""
        if self.returncode not in (None, 0):
            text = self.error_text.lower()
            for word, reason in (("refused", "refused"), ("404", "not_found"), ("403", "forbidden"),
                                 ("invalid data", "not_audio"), ("timed out", "timeout")):  # fmt: skip
                if word in text:
                    return reason
            return "decode_error"
        if self.ended:
            return "ended"
        return "stalled" if self.last_data is not None else "no_audio"

    def close(self) -> None:
        """Stop the decoder and its threads (idempotent)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for thread in self._threads:
            thread.join(2)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
