"""The agent's decoder reads what stations send: MP3 and AAC over HTTP and HLS playlists (real ffmpeg on
loopback), and says why a URL gave nothing."""

import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.clock import SystemClock
from edge_agent.decoder import Decoder
from tests.edge_agent.streams import refused_url


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A static web server over tmp_path: its base URL."""
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *_a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=4", *args], check=True
    )


def decoded(url: str) -> Decoder:
    decoder = Decoder(url, SystemClock(), buffer_s=10.0, prefill_s=3.0)
    decoder.wait_primed(10)
    return decoder


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("tone.aac", ["-ac", "1", "-c:a", "aac", "-b:a", "32k", "-f", "adts"]),
        (
            "tone.m3u8",
            ["-ac", "1", "-c:a", "aac", "-b:a", "32k", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0"],
        ),
        ("tone.mp3", ["-ac", "1", "-b:a", "32k"]),
    ],
)
def test_aac_hls_and_mp3_over_http_decode(tmp_path: Path, served: str, name: str, args: list[str]) -> None:
    ffmpeg(*args, str(tmp_path / name))
    decoder = decoded(f"{served}/{name}")
    try:
        assert decoder.last_data is not None and decoder.decoded_s >= 3.0, decoder.error_text
        assert decoder.take(0.1) is not None
    finally:
        decoder.close()


def test_a_url_that_gives_nothing_says_why(tmp_path: Path, served: str) -> None:
    (tmp_path / "page.html").write_text("<html><body>" + "Trạm phát đang bảo trì. " * 200 + "</body></html>")
    for url, reason in ((refused_url(), "refused"), (f"{served}/gone.mp3", "not_found"),
                        (f"{served}/page.html", "not_audio")):  # fmt: skip
        decoder = decoded(url)
        try:
            assert decoder.drained and decoder.failure() == reason, (url, decoder.error_text)
        finally:
            decoder.close()
