"""A relay slot from a live HLS station (as VOV publishes: a playlist of short AAC segments that appear as
they are made, fetched in bursts): the agent airs it without holes, from a real ffmpeg HLS encoder on
loopback into the file sink."""

import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from edge_agent.agent import Agent
from tests.edge_agent.support import Controller, Keys, now_utc, running_agent, write_config
from tests.edge_agent.test_agent_streams import publish_relay, relay_item, the_recording
from tests.support.services import BrokerFixture
from tests.support.timing import seconds_until

SEGMENT_S = 2


@pytest.fixture
def hls_station(tmp_path: Path) -> Iterator[str]:
    """A live HLS station: ffmpeg makes a 440 Hz tone in real time into 2 s segments, served over HTTP."""
    folder = tmp_path / "hls"
    folder.mkdir()
    encoder = subprocess.Popen(
        ["ffmpeg", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "sine=f=440:sample_rate=22050",
         "-ac", "1", "-c:a", "aac", "-b:a", "32k", "-f", "hls", "-hls_time", str(SEGMENT_S),
         "-hls_list_size", "5", "-hls_flags", "delete_segments", str(folder / "live.m3u8")],
    )  # fmt: skip
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder))  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *_a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        deadline = time.monotonic() + 20
        while (
            (folder / "live.m3u8").read_text().count("#EXTINF") < 3
            if (folder / "live.m3u8").exists()
            else True
        ):
            assert time.monotonic() < deadline and encoder.poll() is None, "the HLS encoder did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{server.server_address[1]}/live.m3u8"
    finally:
        server.shutdown()
        server.server_close()
        encoder.terminate()
        encoder.wait(10)


def test_a_live_hls_station_airs_without_holes(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, hls_station: str
) -> None:
    config = write_config(tmp_path, device_broker, [keys.public_b64])
    start = now_utc() + timedelta(seconds=2)
    relay = relay_item("r-hls", [hls_station], start, 16)
    publish_relay(controller, keys, relay)
    with running_agent(Agent(config)):
        controller.wait_event("finished", "r-hls", timeout=seconds_until(relay.ends_at))
    assert controller.events("gap", "r-hls") == []
    _, heard = the_recording(tmp_path / "played", "r-hls")
    # From the first tone on, every half second of the slot carries the station's tone.
    aired = heard[heard.index(440) :]
    assert len(aired) >= 16 and aired.count(440) >= len(aired) - 1, heard
