"""A station that changes format mid-stream (issue 13, bad input): the agent keeps airing what it can decode
and reports what it cannot as a gap, falling back as for any other loss; nothing else in the plan is lost.

The loopback station sends 4 s of a 440 Hz MP3 (22.05 kHz mono) and then, on the same connection, either
an MP3 at another sample rate and channel count (a studio that switched encoders: ffmpeg resamples, the
tone goes on) or AAC in ADTS (a station that switched codec under the same URL: not decodable as MP3)."""

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from edge_agent.agent import Agent
from protocol.timefmt import parse_utc
from tests.edge_agent.streams import Mount, make_stream_mp3, stream_server, tone
from tests.edge_agent.support import Controller, Keys, now_utc, running_agent, write_config
from tests.edge_agent.test_agent_streams import publish_relay, relay_item, the_recording
from tests.support.services import BrokerFixture
from tests.support.timing import seconds_until


def _encoded(path: Path, freq: int, seconds: float, *args: str) -> bytes:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"aevalsrc='{tone(freq)}':s=44100:d={seconds}", *args, str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def test_a_new_sample_rate_and_channel_count_mid_stream_keeps_airing(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys
) -> None:
    first = make_stream_mp3(tmp_path / "a.mp3", tone(440), 4)
    then = _encoded(tmp_path / "b.mp3", 880, 60, "-ac", "2", "-b:a", "32k")  # 44.1 kHz stereo MP3
    with stream_server() as server:
        server.mounts["/vov1"] = Mount(first + then)
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        start = now_utc() + timedelta(seconds=2)
        relay = relay_item("r-fmt", [server.url("/vov1")], start, 9)
        publish_relay(controller, keys, relay)
        with running_agent(Agent(config)):
            controller.wait_event("finished", "r-fmt", timeout=seconds_until(relay.ends_at))
    assert controller.events("gap", "r-fmt") == []
    record, heard = the_recording(tmp_path / "played", "r-fmt")
    assert 440 in heard and 880 in heard and heard.index(880) > heard.index(440), heard
    assert parse_utc(record["finished_at"]) <= relay.ends_at + timedelta(seconds=0.5)


@pytest.mark.slow
def test_a_switch_to_another_codec_under_the_same_url_is_a_gap_and_the_next_url_airs(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys
) -> None:
    first = make_stream_mp3(tmp_path / "a.mp3", tone(440), 4)
    aac = _encoded(tmp_path / "b.aac", 880, 60, "-ac", "1", "-c:a", "aac", "-b:a", "32k", "-f", "adts")
    backup = make_stream_mp3(tmp_path / "c.mp3", tone(660), 60)
    with stream_server() as server:
        server.mounts["/vov1"], server.mounts["/relay"] = Mount(first + aac), Mount(backup)
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        start = now_utc() + timedelta(seconds=2)
        relay = relay_item("r-codec", [server.url("/vov1"), server.url("/relay")], start, 16)
        publish_relay(controller, keys, relay)
        with running_agent(Agent(config)):
            controller.wait_event("finished", "r-codec", timeout=seconds_until(relay.ends_at))
    gaps = controller.events("gap", "r-codec")
    assert [g["url"] for g in gaps][:1] == [server.url("/vov1")], gaps
    _, heard = the_recording(tmp_path / "played", "r-codec")
    assert 440 in heard and 660 in heard and heard.index(660) > heard.index(440), heard
    quiet = "".join("q" if f not in (440, 660, 880) else " " for f in heard).split(" ")
    assert max(len(run) for run in quiet) * 0.5 <= 10, heard  # the fallback aired within 10 s
