"""Stream test helpers: a paced MP3 stream server on loopback (like an Icecast mount) and what a WAV aired."""

import array
import http.server
import itertools
import socket
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BITRATE = 32_000  # bits/s of the test streams (mono MP3)


def make_stream_mp3(path: Path, expression: str, seconds: float) -> bytes:
    """A mono MP3 at BITRATE from an ffmpeg aevalsrc expression of t (e.g. a tone, then silence)."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"aevalsrc='{expression}':s=22050:d={seconds}", "-ac", "1", "-b:a", "32k", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def tone(freq: int) -> str:
    """An aevalsrc expression: a tone at half scale."""
    return f"0.5*sin(2*PI*{freq}*t)"


@dataclass
class Mount:
    """One stream path: its MP3 bytes, served at BITRATE after a 1 s burst; it may be cut or stalled.

    A page that is not a stream (`paced` False) is sent at once, as a web server sends an error page.
    Each connection gets the body from its start, unless `on_air`: then the mount is a station on the air
    since it was made (`since`), and a connection gets the last second (the burst) and then the live edge,
    as a radio station's Icecast does.
    """

    body: bytes
    content_type: str = "audio/mpeg"
    paced: bool = True
    status: int = 200
    killed: bool = False
    stalled: bool = False
    on_air: bool = False
    since: float = field(default_factory=time.monotonic)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "StreamServer"
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        mount = self.server.mounts.get(self.path)
        self.server.requests.append(self.path)
        if mount is None or mount.killed:
            self.send_error(404)
            return
        if mount.status != 200:
            self.send_error(mount.status)
            return
        self.send_response(200)
        self.send_header("Content-Type", mount.content_type)
        self.end_headers()
        rate = BITRATE // 8
        per_tick = rate // 10
        first, sent = (
            0,
            min(len(mount.body), rate if mount.paced else len(mount.body)),
        )  # the burst on connect
        began = time.monotonic() - 1.0  # byte b is due at began + b / rate (after the burst)
        if mount.on_air:
            sent = min(len(mount.body), int((time.monotonic() - mount.since) * rate))
            first, began = max(0, sent - rate), mount.since
        try:
            if mount.stalled:  # a hung server sends headers, then nothing
                sent = first
            self.wfile.write(mount.body[first:sent])
            while sent < len(mount.body) and not mount.killed and not self.server.closing.is_set():
                if mount.stalled:
                    time.sleep(0.05)
                    continue
                due = began + sent / rate + 0.1
                time.sleep(max(0.0, due - time.monotonic()))
                self.wfile.write(mount.body[sent : sent + per_tick])
                sent += per_tick
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StreamServer(http.server.ThreadingHTTPServer):
    """Serves mounts on loopback like a streaming server; `closing` ends every stream."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mounts: dict[str, Mount] = {}
        self.requests: list[str] = []
        self.closing = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@contextmanager
def stream_server() -> Iterator[StreamServer]:
    server = StreamServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()


def refused_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/vov1"


def aired(path: Path, step_s: float = 0.5) -> list[int]:
    """What a WAV aired, per `step_s`: the tone's frequency in Hz (by zero crossings), 0 for silence."""
    with wave.open(str(path)) as wav:
        rate = wav.getframerate()
        data = wav.readframes(wav.getnframes())
    samples = array.array("h")
    samples.frombytes(data)
    step = int(rate * step_s)
    out = []
    for start in range(0, len(samples) - step + 1, step):
        chunk = samples[start : start + step]
        if max(abs(s) for s in chunk) < 300:
            out.append(0)
            continue
        crossings = sum(1 for a, b in itertools.pairwise(chunk) if (a < 0) != (b < 0))
        out.append(round(crossings / 2 / step_s / 10) * 10)
    return out
