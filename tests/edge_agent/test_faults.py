"""Faults on the real agent process (`loaxa agent`), each with what must happen:

- kill -9 mid-download: the restarted agent resumes with an HTTP Range request from the bytes it kept,
  verifies the asset and plays it;
- kill -9 mid-playback: the cut play is not counted; the restarted agent plays the item again from the
  start while its window is open, and every event reaches the controller once, in order;
- restart with no network and a cached plan, and the broker stopped for the whole window: the agent plays
  from its stored plan and cache, and the queued events arrive in order, once each, when the broker returns;
- forged, replayed, malformed and oversized messages on every subscribed topic (also retained): rejected
  and counted, the agent keeps running and still plays an emergency.
"""

import sqlite3
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from protocol import Asset, Command
from tests.edge_agent.support import (
    Audio,
    Controller,
    Keys,
    assert_events_once_in_order,
    assert_state_intact,
    asset_server,
    hours_away,
    item,
    now_utc,
    plan,
    plays,
    random_audio,
    reap,
    spawn,
    stop,
    wait_until,
    window,
    write_config,
)
from tests.support.services import BrokerFixture
from tests.support.timing import seconds_until


def test_kill_9_mid_download_resumes_with_range(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys
) -> None:
    audio = random_audio(tmp_path / "big.bin", 400_000, 500)
    config = write_config(tmp_path, device_broker, [keys.public_b64])
    first = second = None
    with asset_server() as server:
        asset = server.add(audio)
        server.stall_after = 200_000
        opens = now_utc()
        body = plan(1, [window("now", opens, opens + timedelta(minutes=5))], [item("i-1", asset, opens)])
        controller.publish("plan", keys.plan(1, body), retain=True)
        part = config.cache_dir / "partial" / f"{audio.sha256}.part"
        try:
            first = spawn(tmp_path / "agent.toml")
            wait_until(lambda: part.exists() and part.stat().st_size >= 65_536, what="a partial download")
            first.kill()
            first.communicate(timeout=10)
            kept = part.stat().st_size
            server.release.set()
            second = spawn(tmp_path / "agent.toml")
            controller.wait_event("finished", "i-1", timeout=20)
            stop(second)
        finally:
            reap(first, second)
    assert server.requests[-1][1] == f"bytes={kept}-", server.requests
    assert not part.exists()
    assert (config.cache_dir / f"{audio.sha256}.mp3").read_bytes() == audio.path.read_bytes()
    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["i-1"]
    assert_events_once_in_order(controller)
    assert_state_intact(config.state_dir)


def test_kill_9_mid_playback_plays_again_from_the_start(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys
) -> None:
    audio = random_audio(tmp_path / "long.bin", 20_000, 4000)
    config = write_config(tmp_path, device_broker, [keys.public_b64])
    first = second = None
    with asset_server() as server:
        asset = server.add(audio)
        opens = now_utc()
        body = plan(1, [window("now", opens, opens + timedelta(minutes=5))], [item("i-1", asset, opens)])
        controller.publish("plan", keys.plan(1, body), retain=True)
        try:
            first = spawn(tmp_path / "agent.toml")
            controller.wait_event("started", "i-1")
            first.kill()
            first.communicate(timeout=10)
            assert not plays(tmp_path / "played"), "killed before the play completed"
            second = spawn(tmp_path / "agent.toml")
            controller.wait_event("finished", "i-1", timeout=20)
            stop(second)
        finally:
            reap(first, second)
    records = plays(tmp_path / "played")
    assert [(p["item_id"], p["completed"]) for p in records] == [("i-1", True)]
    events = assert_events_once_in_order(controller)
    boots = [e["boot_id"] for e in events if e.get("item_id") == "i-1"]
    kinds = [e["type"] for e in events if e.get("item_id") == "i-1"]
    assert kinds == ["started", "started", "finished"] and boots[0] != boots[1] == boots[2]
    assert_state_intact(config.state_dir)


def _publish_one_item(
    controller: Controller, keys: Keys, asset: Asset, *, opens_in: int, lasts: int
) -> datetime:
    """Publish a plan with one item `i-1` in a window opening `opens_in` s from now; return its close."""
    opens = now_utc() + timedelta(seconds=opens_in)
    closes = opens + timedelta(seconds=lasts)
    body = plan(1, [window("soon", opens, closes)], [item("i-1", asset, opens, not_after=closes)])
    controller.publish("plan", keys.plan(1, body), retain=True)
    return closes


def _cache_then_kill(tmp_path: Path, controller: Controller) -> subprocess.Popen[bytes]:
    """Start the agent until it holds the asset, then kill it (-9): what a power cut does."""
    first = spawn(tmp_path / "agent.toml")
    controller.wait_event("asset_ready")
    first.kill()
    first.communicate(timeout=10)
    return first


def test_offline_restart_plays_the_cached_plan_through_a_window_without_broker(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    config = write_config(tmp_path, device_broker, [keys.public_b64])
    first = second = None
    with asset_server() as server:
        closes = _publish_one_item(controller, keys, server.add(short_mp3), opens_in=6, lasts=4)
        try:
            first = _cache_then_kill(tmp_path, controller)
        finally:
            reap(first)
    device_broker.stop()  # and the asset server is gone: no network at all
    try:
        second = spawn(tmp_path / "agent.toml")
        wait_until(lambda: plays(tmp_path / "played"), seconds_until(closes), "the play from the cached plan")
        wait_until(lambda: now_utc() > closes, seconds_until(closes), "the window to close, the broker down")
        assert not controller.events("started", "i-1"), "the broker was down: nothing could arrive yet"
        controller.subscribed.clear()
        device_broker.start()
        assert controller.subscribed.wait(10)
        controller.wait_event("finished", "i-1", timeout=20)
        stop(second)
    finally:
        reap(second)
    played = plays(tmp_path / "played")
    assert [p["item_id"] for p in played] == ["i-1"] and played[0]["completed"]
    events = assert_events_once_in_order(controller)
    assert [e["type"] for e in events if e.get("item_id") == "i-1"] == ["started", "finished"]
    assert_state_intact(config.state_dir)


def test_bad_messages_on_every_topic_are_refused_by_the_process(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    write_config(tmp_path, device_broker, [keys.public_b64])
    forger = Keys()
    later = hours_away(3, timedelta(minutes=30))
    windows = [window("later", later, later + timedelta(minutes=30))]
    agent = None
    with asset_server() as server:
        asset = server.add(short_mp3)
        normal = item("n-1", asset, later, not_after=later + timedelta(minutes=20))
        controller.publish(
            "plan", forger.plan(9, plan(9, windows, [normal])), retain=True
        )  # retained forgery
        try:
            agent = spawn(tmp_path / "agent.toml")
            wait_until(lambda: controller.statuses("online"), what="the birth")
            controller.publish("plan", keys.plan(5, plan(3, windows, [normal])), retain=True)
            controller.wait_event("received")
            for channel in ("plan", "cmd"):
                controller.publish(channel, b"{not json")
                controller.publish(channel, b"[" * 50_000)  # nesting deep enough to break a parser
                # Over the agent's 1 MiB limit, under the broker's 2 MiB one: the agent must refuse it.
                controller.publish(channel, b'{"v":1,' + b" " * (1536 * 1024) + b"}")
            controller.publish("plan", keys.plan(4, plan(2, windows, [normal])))  # replayed
            controller.publish("cmd", keys.cmd(1, {"command": "set_volume", "volume": 40}))
            controller.publish("cmd", keys.cmd(1, {"command": "set_volume", "volume": 90}))  # replayed
            controller.publish("cmd", forger.cmd(2, {"command": "stop"}))
            alert = item("e-1", asset, now_utc(), priority="emergency")
            controller.publish("cmd", keys.cmd(3, Command("play_now", item=alert, repeat=1).to_json()))
            controller.wait_event("finished", "e-1", timeout=20)
            beat = wait_until(
                lambda: [b for b in controller.received("heartbeat") if sum(b["rejected"].values()) >= 10],
                what="a heartbeat counting every rejection",
            )[-1]
            assert agent.poll() is None, "the agent survived every bad message"
            stop(agent)
        finally:
            reap(agent)
    assert beat["rejected"] == {
        "plan.bad_signature": 1,
        "plan.bad_json": 2,
        "plan.too_large": 1,
        "plan.replayed": 1,
        "cmd.bad_json": 2,
        "cmd.too_large": 1,
        "cmd.replayed": 1,
        "cmd.bad_signature": 1,
    }
    assert beat["volume"] == 40 and beat["plan_version"] == 3
    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["e-1"]


def test_a_truncated_state_file_is_rebuilt_from_the_retained_plan_and_reported(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    """A damaged SD card: the agent starts, takes the retained plan back and plays (issue 20, item 7)."""
    config = write_config(tmp_path, device_broker, [keys.public_b64])
    first = second = None
    with asset_server() as server:
        closes = _publish_one_item(controller, keys, server.add(short_mp3), opens_in=8, lasts=20)
        try:
            first = _cache_then_kill(tmp_path, controller)
            state = config.state_dir / "agent.sqlite3"
            with sqlite3.connect(state) as db:  # what the card held: everything in the main file
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            with state.open("r+b") as file:
                file.truncate(state.stat().st_size // 2)
            second = spawn(tmp_path / "agent.toml")
            [rebuilt] = controller.wait_event("failed")
            assert rebuilt["reason"] == "state_rebuilt"
            wait_until(lambda: plays(tmp_path / "played"), seconds_until(closes), "the play after rebuild")
            controller.wait_event("finished", "i-1", timeout=seconds_until(closes))
            stop(second)
        finally:
            reap(first, second)
    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["i-1"]
    assert_events_once_in_order(controller)
    assert_state_intact(config.state_dir)
