"""PCM outputs of the Player port: raw PCM into aplay on an ALSA device, or into a WAV file paced like one.

Owns writing the agent's PCM format (edge_agent.pcm) out in real time. A write returns once the device has
room, at most `LEAD_S` ahead of what it plays, so the caller's timeline is the speaker's. It must not decode,
measure or decide anything.
"""

import contextlib
import fcntl
import json
import logging
import struct
import subprocess
import threading
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from edge_agent.clock import Clock
from edge_agent.pcm import RATE, SAMPLE_BYTES
from protocol.timefmt import format_utc

log = logging.getLogger(__name__)
# How far ahead of the speaker a write may be: ALSA's buffer on the Pi, the file sink's pacing.
LEAD_S: Final = 0.2
_F_SETPIPE_SZ: Final = 1031  # Linux fcntl: a small pipe keeps aplay's input from holding seconds of audio


class PlayerError(RuntimeError):
    """A play failed; `reason` is a short word for the `failed` event."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PcmOutput(Protocol):
    """Where PCM blocks go; `write` blocks while the device is more than `LEAD_S` ahead."""

    def write(self, block: bytes) -> None:
        """Air a block of PCM (s16le mono at edge_agent.pcm.RATE)."""
        ...

    def close(self, *, completed: bool) -> None:
        """Let what was written play out (completed) or drop it (cut short), then release the device.

        Raises PlayerError when the device refused the audio.
        """
        ...


def _wav_header(data_bytes: int) -> bytes:
    return b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, RATE, RATE * SAMPLE_BYTES, SAMPLE_BYTES, 16
    ) + b"data" + struct.pack("<I", data_bytes)  # fmt: skip


class WavSinkOutput:
    """The file sink's PCM output: a WAV file written at the speaker's pace, and a line in plays.jsonl."""

    def __init__(self, output_dir: Path, name: str, item_id: str, volume: int, clock: Clock) -> None:
        self._clock = clock
        self._path = output_dir / f"{name}.wav"
        self._log_path = output_dir / "plays.jsonl"
        self._item_id = item_id
        self._volume = volume
        self._file: BinaryIO = self._path.open("wb")
        self._file.write(_wav_header(0))
        self._bytes = 0
        self._never = threading.Event()
        self.started_at = clock.now()
        self._t0 = clock.monotonic()

    def write(self, block: bytes) -> None:
        """Append the block, then wait until the playhead is within LEAD_S of its end."""
        self._file.write(block)
        self._bytes += len(block)
        ahead = self._t0 + self._bytes / (RATE * SAMPLE_BYTES) - LEAD_S - self._clock.monotonic()
        if ahead > 0:
            self._clock.wait(self._never, ahead)

    def close(self, *, completed: bool) -> None:
        """Fix the WAV header and log the play (what was written is what the speaker would have aired)."""
        if completed:
            remaining = self._t0 + self._bytes / (RATE * SAMPLE_BYTES) - self._clock.monotonic()
            if remaining > 0:
                self._clock.wait(self._never, remaining)
        self._file.seek(0)
        self._file.write(_wav_header(self._bytes))
        self._file.close()
        record = {
            "item_id": self._item_id,
            "file": self._path.name,
            "volume": self._volume,
            "started_at": format_utc(self.started_at),
            "finished_at": format_utc(self._clock.now()),
            "completed": completed,
            "pcm_rate": RATE,
        }
        with self._log_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


class AplayOutput:
    """Raw PCM into `aplay` on an ALSA device; ALSA's buffer paces the writes."""

    def __init__(self, device: str) -> None:
        self._proc = subprocess.Popen(
            ["aplay", "-q", "-D", device, "-t", "raw", "-f", "S16_LE", "-r", str(RATE), "-c", "1",
             "-B", str(int(LEAD_S * 1_000_000)), "-"],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        stdin = self._proc.stdin
        if stdin is None:  # stdin=PIPE: never None
            raise RuntimeError("aplay has no input pipe")
        self._stdin = stdin
        try:
            fcntl.fcntl(self._stdin.fileno(), _F_SETPIPE_SZ, 4096)
        except OSError:
            log.debug("cannot shrink aplay's pipe; it buffers up to 64 KiB more")
        self.failed = False

    def write(self, block: bytes) -> None:
        """Hand a block to aplay (blocks while ALSA's buffer is full)."""
        if self.failed:
            return
        try:
            self._stdin.write(block)
            self._stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.failed = True
            log.error("aplay stopped taking audio: %s", exc)

    def close(self, *, completed: bool) -> None:
        """Drain (completed) or stop aplay at once; PlayerError when aplay refused the audio."""
        with contextlib.suppress(OSError):
            self._stdin.close()
        if not completed and self._proc.poll() is None:
            self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        err = self._proc.stderr.read().decode(errors="replace")[-300:] if self._proc.stderr else ""
        if self._proc.stderr is not None:
            self._proc.stderr.close()
        if completed and (self.failed or self._proc.returncode != 0):
            raise PlayerError("player_error", f"aplay exited with {self._proc.returncode}: {err.strip()}")
