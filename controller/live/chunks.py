"""A phone's microphone as a live source: numbered webm/opus chunks piped into ffmpeg, sent to Icecast as MP3.

Owns the ffmpeg child of one browser session and the order of its chunks (waitress has no WebSockets, so
the page POSTs 250 ms chunks with a sequence number). Must not touch the database or send commands.
"""

import logging
import subprocess
import threading
import time
from typing import Final

from controller.children import die_with_parent

log = logging.getLogger(__name__)
MAX_CHUNK_BYTES: Final = 512 * 1024
_CLOSED: Final = "Phiên phát trực tiếp đã kết thúc; hãy bắt đầu phiên mới."


class ChunkRefused(ValueError):
    """A chunk out of order, too large, or after the pipe closed; `code` is stable, the message Vietnamese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ChunkPipe:
    """`ffmpeg -i pipe:0 ... -f mp3 icecast://...` fed by the chunks of one browser session."""

    def __init__(self, source_url: str) -> None:
        self._lock = threading.Lock()
        self.next_seq = 0
        self.last_chunk = time.monotonic()
        self._process = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", "pipe:0", "-vn",
             "-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "64k",
             "-content_type", "audio/mpeg", "-f", "mp3", source_url],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, looked up before any fork
        )  # fmt: skip

    def feed(self, seq: int, data: bytes) -> bool:
        """Write chunk `seq`; a repeat is ignored (False), a gap or overflow refused."""
        if len(data) > MAX_CHUNK_BYTES:
            raise ChunkRefused("chunk_too_large", f"Đoạn âm thanh {len(data)} byte quá lớn (tối đa 512 KB).")
        with self._lock:
            if seq < self.next_seq:
                return False
            if seq > self.next_seq:
                raise ChunkRefused(
                    "chunk_gap",
                    f"Thiếu đoạn âm thanh số {self.next_seq} (nhận được số {seq}); hãy bắt đầu phát lại.",
                )
            stdin = self._process.stdin
            if stdin is None or self._process.poll() is not None:
                raise ChunkRefused("pipe_closed", _CLOSED)
            try:
                stdin.write(data)
                stdin.flush()
            except OSError as exc:
                raise ChunkRefused("pipe_closed", _CLOSED) from exc
            self.next_seq += 1
            self.last_chunk = time.monotonic()
            return True

    def idle_s(self) -> float:
        """Seconds since the last chunk (or since the pipe opened)."""
        return time.monotonic() - self.last_chunk

    def close(self) -> None:
        """Close ffmpeg's input and let it end (killed after 3 s)."""
        with self._lock:
            if self._process.stdin is not None and not self._process.stdin.closed:
                try:
                    self._process.stdin.close()
                except OSError:
                    log.debug("chunk pipe input already closed")
        try:
            self._process.wait(3)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
