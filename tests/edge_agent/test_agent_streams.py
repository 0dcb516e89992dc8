"""Relay slots (issue 13, item 2): a real agent airs a stream from a loopback server into the file sink,
falls back when a URL refuses or dies mid-slot (next URL, then the filler), reports each gap, and stops at
the slot's end. What the sink recorded is checked: which tone aired when."""

import hashlib
import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_agent.agent import Agent
from protocol import Asset, PlanBody, SourcedItem, StreamSource
from protocol.timefmt import parse_utc
from tests.edge_agent.streams import (
    Mount,
    aired,
    make_stream_mp3,
    refused_url,
    stream_server,
    tone,
)
from tests.edge_agent.support import (
    Audio,
    Controller,
    Keys,
    asset_server,
    item,
    make_mp3,
    now_utc,
    plan,
    plays,
    running_agent,
    wait_until,
    window,
    write_config,
)
from tests.support.services import BrokerFixture
from tests.support.timing import seconds_until


def relay_item(
    item_id: str, urls: list[str], start: datetime, seconds: float, filler: Asset | None = None
) -> SourcedItem:
    return SourcedItem(
        item_id=item_id, bulletin_id=9, priority="normal", source=StreamSource("relay", tuple(urls), "vov1"),
        not_before=start, not_after=start + timedelta(minutes=2), planned_start=start,
        duration_ms=int(seconds * 1000), asset=filler,
    )  # fmt: skip


def publish_relay(controller: Controller, keys: Keys, relay: SourcedItem, seq: int = 1) -> None:
    opens = relay.planned_start
    body = plan(1, [window("relay", opens - timedelta(seconds=1), opens + timedelta(minutes=3))], [])
    body = PlanBody(**{**body.__dict__, "sourced": (relay,)})
    controller.publish("plan", keys.plan(seq, body), retain=True)


def the_recording(out: Path, item_id: str) -> tuple[dict[str, Any], list[int]]:
    """The sink's log line for the item and its tones per 0.5 s."""
    [record] = [p for p in plays(out) if p["item_id"] == item_id]
    return record, aired(out / record["file"])


@pytest.fixture
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[int, bytes]:
    """60 s streams of 440 and 880 Hz (MP3, 32 kbit/s)."""
    folder = tmp_path_factory.mktemp("streams")
    return {f: make_stream_mp3(folder / f"{f}.mp3", tone(f), 60) for f in (440, 880)}


@pytest.mark.parametrize("first", ["refused", "not_found", "html"])
def test_a_refusing_first_url_falls_back_to_the_second_which_airs_to_the_slot_end(  # noqa: PLR0917
    first: str,
    tmp_path: Path,
    device_broker: BrokerFixture,
    controller: Controller,
    keys: Keys,
    tones: dict[int, bytes],
) -> None:
    with stream_server() as server:
        server.mounts["/vov1"] = Mount(tones[440])
        server.mounts["/html"] = Mount(b"<html><body>" + b"Not a stream " * 2000 + b"</body></html>",
                                       content_type="text/html", paced=False)  # fmt: skip
        bad = {"refused": refused_url(), "not_found": server.url("/gone"), "html": server.url("/html")}[first]
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        start = now_utc() + timedelta(seconds=2)
        # 6 s: the station's audio of the slot's start airs one playout delay (2 s) after it.
        relay = relay_item("r-1", [bad, server.url("/vov1")], start, 6)
        publish_relay(controller, keys, relay)
        with running_agent(Agent(config)):
            [finished] = controller.wait_event("finished", "r-1", timeout=seconds_until(relay.ends_at))
    [started] = controller.events("started", "r-1")
    assert started["url"] == server.url("/vov1") and bad in started["detail"]
    record, heard = the_recording(tmp_path / "played", "r-1")
    # The sink aired the second URL's tone, from within two or three seconds of the start to the slot's end.
    assert heard.count(440) >= 6 and set(heard) <= {0, 440} | set(range(10, 440, 10))
    assert parse_utc(record["started_at"]) >= start - timedelta(seconds=0.1)
    assert parse_utc(record["finished_at"]) <= relay.ends_at + timedelta(seconds=0.5)
    assert parse_utc(finished["at"]) >= relay.ends_at


def test_a_source_killed_mid_slot_falls_back_to_the_next_then_the_filler_and_every_gap_is_reported(
    tmp_path: Path,
    device_broker: BrokerFixture,
    controller: Controller,
    keys: Keys,
    tones: dict[int, bytes],
) -> None:
    filler = make_mp3(tmp_path / "filler.mp3", 3.0, freq=660)
    with stream_server() as server, asset_server() as assets:
        server.mounts["/vov1"], server.mounts["/relay"] = Mount(tones[440]), Mount(tones[880])
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        start = now_utc() + timedelta(seconds=3)
        relay = relay_item("r-2", [server.url("/vov1"), server.url("/relay")], start, 14, assets.add(filler))
        publish_relay(controller, keys, relay)
        with running_agent(Agent(config)):
            controller.wait_event("started", "r-2", timeout=seconds_until(start))
            wait_until(lambda: (tmp_path / "played").exists() and now_utc() > start + timedelta(seconds=3))
            server.mounts["/vov1"].killed = True  # the station's own server goes away: EOF, then 404
            controller.wait_event("gap", "r-2", timeout=10)
            wait_until(lambda: now_utc() > start + timedelta(seconds=8), what="the relay to air a while")
            server.mounts["/relay"].stalled = True  # the controller's relay hangs: no bytes, no EOF
            controller.wait_event("finished", "r-2", timeout=seconds_until(relay.ends_at))
    gaps = controller.events("gap", "r-2")
    assert [(g["url"], g["reason"]) for g in gaps] == [
        (server.url("/vov1"), "ended"),
        (server.url("/relay"), "stalled"),
    ]
    assert "resumed from " + server.url("/relay") in gaps[0]["detail"]
    assert "filler" in gaps[1]["detail"] and parse_utc(gaps[1]["to"]) >= relay.ends_at - timedelta(
        seconds=0.2
    )
    record, heard = the_recording(tmp_path / "played", "r-2")
    # 440 Hz, then 880, then the filler (660, looped: its loop's seam may fall inside the slot), none back.
    assert list(dict.fromkeys(f for f in heard if f in (440, 880, 660))) == [440, 880, 660], heard
    last = {f: max(i for i, g in enumerate(heard) if g == f) for f in (440, 880)}
    assert last[440] < heard.index(880) and last[880] < heard.index(660), heard
    # Each fallback aired within 10 s of the loss: the silence between tones is short.
    longest_quiet = max(
        len(run) for run in "".join("q" if f not in (440, 880, 660) else " " for f in heard).split(" ")
    )
    assert longest_quiet * 0.5 <= 10, heard
    # The gap's span matches what the sink aired: 880 Hz stops where the second gap begins.
    second = int((parse_utc(gaps[1]["from"]) - parse_utc(record["started_at"])).total_seconds() / 0.5)
    assert 880 in heard[second - 2 : second] and 880 not in heard[second + 1 :], (second, heard)
    assert parse_utc(record["finished_at"]) <= relay.ends_at + timedelta(seconds=0.5)
    assert json.loads(json.dumps(gaps))  # events are plain JSON


def test_a_stream_that_goes_quiet_is_reported_as_dead_air(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys
) -> None:
    quiet = make_stream_mp3(tmp_path / "quiet.mp3", "if(lt(t,2),0.5*sin(2*PI*440*t),0)", 60)
    with stream_server() as server:
        server.mounts["/vov1"] = Mount(quiet)
        config = write_config(tmp_path, device_broker, [keys.public_b64], player_extra="dead_air_s = 2")
        start = now_utc() + timedelta(seconds=2)
        relay = relay_item("r-3", [server.url("/vov1")], start, 7)
        publish_relay(controller, keys, relay)
        with running_agent(Agent(config)):
            controller.wait_event("finished", "r-3", timeout=seconds_until(relay.ends_at))
    dead = controller.events("dead_air", "r-3")
    assert [(d["kind"], d.get("detail")) for d in dead] == [("silent", "ongoing"), ("silent", None)]
    record, heard = the_recording(tmp_path / "played", "r-3")
    quiet_from = parse_utc(dead[1]["from"]) - parse_utc(record["started_at"])
    assert heard[int(quiet_from.total_seconds() / 0.5) - 1] != 0 and set(
        heard[int(quiet_from.total_seconds() / 0.5) + 1 :]
    ) == {0}
    assert parse_utc(dead[1]["to"]) - parse_utc(dead[1]["from"]) > timedelta(seconds=2)


def test_a_silent_file_and_a_corrupt_file_are_dead_air_silent_and_broken(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys
) -> None:
    silent = make_stream_mp3(tmp_path / "silent.mp3", "0", 4)
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + os.urandom(20_000))
    with asset_server() as assets:
        quiet = assets.add(
            Audio(tmp_path / "silent.mp3", hashlib.sha256(silent).hexdigest(), len(silent), 4000)
        )
        broken = assets.add(Audio(corrupt, hashlib.sha256(corrupt.read_bytes()).hexdigest(), 20_010, 3500))
        config = write_config(
            tmp_path, device_broker, [keys.public_b64], player_extra="decode_files = true\ndead_air_s = 2"
        )
        opens = now_utc() + timedelta(seconds=2)
        items = [item("quiet", quiet, opens), item("broken", broken, opens + timedelta(seconds=5))]
        body = plan(1, [window("w", opens, opens + timedelta(minutes=2))], items)
        controller.publish("plan", keys.plan(1, body), retain=True)
        with running_agent(Agent(config)):
            controller.wait_event("finished", "quiet", timeout=seconds_until(opens))
            [failed] = controller.wait_event("failed", "broken", timeout=seconds_until(opens, 20))
    assert failed["reason"] == "decode_error"
    assert [d["kind"] for d in controller.events("dead_air", "quiet")] == ["silent", "silent"]
    assert [d["kind"] for d in controller.events("dead_air", "broken")] == ["broken", "broken"]
    # The broken file held its slot: the sink aired 3.5 s of silence for it, the silent file 4 s.
    for item_id, seconds in (("quiet", 4.0), ("broken", 3.5)):
        _, heard = the_recording(tmp_path / "played", item_id)
        assert set(heard) == {0} and abs(len(heard) * 0.5 - seconds) <= 0.5, (item_id, heard)


def test_a_relay_never_airs_after_its_window_closes(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, tones: dict[int, bytes]
) -> None:
    with stream_server() as server:
        server.mounts["/vov1"] = Mount(tones[440])
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        start = now_utc().replace(microsecond=0) + timedelta(seconds=2)
        closes = start + timedelta(seconds=5)
        relay = relay_item("r-4", [server.url("/vov1")], start, 60)  # the slot outlasts the window
        body = plan(1, [window("short", start - timedelta(seconds=1), closes)], [])
        controller.publish(
            "plan", keys.plan(1, PlanBody(**{**body.__dict__, "sourced": (relay,)})), retain=True
        )
        with running_agent(Agent(config)):
            [finished] = controller.wait_event("finished", "r-4", timeout=seconds_until(closes))
    record, heard = the_recording(tmp_path / "played", "r-4")
    assert parse_utc(finished["at"]) >= closes and parse_utc(record["finished_at"]) <= closes + timedelta(
        seconds=0.5
    )
    assert 440 in heard and len(heard) * 0.5 <= 5.5, heard


def test_a_last_url_slow_to_start_is_kept_while_the_filler_airs_then_takes_over(
    tmp_path: Path,
    device_broker: BrokerFixture,
    controller: Controller,
    keys: Keys,
    tones: dict[int, bytes],
) -> None:
    """The controller's relay (the last URL) slow to send its first audio, as an on-demand relay connecting
    upstream or a busy 4G link can be: the filler airs from `connect_s` on, and the same connection airs the
    station once it sends, instead of being closed at 3 s and opened again later."""
    filler = make_mp3(tmp_path / "filler.mp3", 3.0, freq=660)
    with stream_server() as server, asset_server() as assets:
        server.mounts["/relay"] = Mount(tones[880], stalled=True)  # headers, then nothing for now
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        start = now_utc() + timedelta(seconds=3)
        relay = relay_item("r-slow", [refused_url(), server.url("/relay")], start, 8, assets.add(filler))
        publish_relay(controller, keys, relay)
        with running_agent(Agent(config)):
            wait_until(lambda: "/relay" in server.requests, seconds_until(start) + 10, what="the relay asked")
            opened = time.monotonic()
            [started] = controller.wait_event(
                "started", "r-slow", timeout=10
            )  # the filler, from connect_s on
            time.sleep(max(0.0, opened + 4.2 - time.monotonic()))  # inside ffmpeg's own 5 s without a byte
            server.mounts["/relay"].stalled = False
            controller.wait_event("finished", "r-slow", timeout=seconds_until(relay.ends_at) + 5)
    assert started["detail"].startswith("filler"), started
    assert server.requests.count("/relay") == 1  # kept, not reopened
    _, heard = the_recording(tmp_path / "played", "r-slow")
    assert list(dict.fromkeys(f for f in heard if f in (880, 660))) == [660, 880], heard
    [gap] = controller.events("gap", "r-slow")
    assert "resumed from " + server.url("/relay") in gap["detail"], gap
