"""`loaxa agent` as a real process: commands over MQTT, SIGTERM shuts down cleanly, memory stays small."""

import shutil
import signal
import socket
import tempfile
from datetime import timedelta
from pathlib import Path

import psutil

from edge_agent.cli import main
from protocol import Status
from tests.edge_agent.support import (
    Audio,
    Controller,
    Keys,
    asset_server,
    item,
    now_utc,
    plan,
    plays,
    reap,
    spawn,
    wait_until,
    window,
    write_config,
)
from tests.support.services import BrokerFixture
from tests.support.timing import seconds_until

RSS_LIMIT_MB = 50


def test_bad_config_exits_with_2(tmp_path: Path) -> None:
    assert main(["--config", str(tmp_path / "missing.toml")]) == 2


def test_agent_process_obeys_commands_and_stops_on_sigterm(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys
) -> None:
    config = write_config(tmp_path, device_broker, [keys.public_b64])
    process = spawn(tmp_path / "agent.toml")
    try:
        births = wait_until(lambda: controller.statuses("online"), what="the birth")
        controller.publish("cmd", keys.cmd(1, {"command": "test_tone", "duration_s": 30}))
        controller.wait_event("started", "test-tone-1")
        rss_mb = psutil.Process(process.pid).memory_info().rss / 2**20
        controller.publish("cmd", keys.cmd(2, {"command": "stop"}))
        stopped = controller.wait_event("interrupted", "test-tone-1")
        controller.publish("cmd", keys.cmd(3, {"command": "resync"}))
        wait_until(lambda: len(controller.statuses("online")) == 2, what="a second birth after resync")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output.decode(errors="replace")[-2000:]
    assert stopped[0]["reason"] == "stopped"
    assert list((config.state_dir / "tone").glob("*.wav"))
    statuses = [Status.from_json(s) for s in controller.received("status")]
    assert [s.state for s in statuses] == ["online", "online", "offline"]
    assert statuses[-1].bdseq == births[0]["bdseq"]
    assert rss_mb < RSS_LIMIT_MB, f"agent RSS {rss_mb:.1f} MB"
    print(f"agent RSS while playing: {rss_mb:.1f} MB")


def test_kill_9_leaves_a_will_and_nothing_is_replayed(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    with asset_server() as server:
        asset = server.add(short_mp3)
        write_config(tmp_path, device_broker, [keys.public_b64])
        opens = now_utc().replace(microsecond=0) + timedelta(seconds=2)
        closes = opens + timedelta(seconds=30)
        body = plan(1, [window("soon", opens, closes)], [item("i-1", asset, opens)])
        controller.publish("plan", keys.plan(1, body), retain=True)
        first = spawn(tmp_path / "agent.toml")
        try:
            controller.wait_event("finished", "i-1", timeout=seconds_until(closes))
            first.kill()
            first.communicate(timeout=10)
            will = wait_until(lambda: controller.statuses("offline"), what="the last will")
            second = spawn(tmp_path / "agent.toml")
            wait_until(lambda: len(controller.statuses("online")) == 2, what="the second agent's birth")
            beats = wait_until(
                lambda: [
                    b for b in controller.received("heartbeat") if b["plan_version"] == 1 and b["seq"] >= 2
                ]
            )
            second.send_signal(signal.SIGTERM)
            second.communicate(timeout=15)
        finally:
            for process in (first, second):
                if process.poll() is None:
                    process.kill()
                    process.communicate()
    births = controller.statuses("online")
    assert births[0]["boot_id"] != births[1]["boot_id"]
    assert will[0]["bdseq"] == births[0]["bdseq"] < births[1]["bdseq"]
    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["i-1"]
    assert beats[-1]["rejected"] == {} and beats[-1]["assets_missing"] == 0
    assert [e["type"] for e in controller.unique_events() if e.get("item_id") == "i-1"] == [
        "started",
        "finished",
    ]


def test_systemd_gets_ready_and_watchdog_notifications(
    device_broker: BrokerFixture, controller: Controller, keys: Keys, tmp_path: Path
) -> None:
    write_config(tmp_path, device_broker, [keys.public_b64])
    sockdir = Path(tempfile.mkdtemp(prefix="loaxa-notify-"))  # short: AF_UNIX paths are limited to 108
    received: list[str] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sockdir / "notify"))
        sock.settimeout(10)
        process = spawn(tmp_path / "agent.toml", env={"NOTIFY_SOCKET": str(sockdir / "notify")})
        try:
            while "WATCHDOG=1" not in received:
                received.append(sock.recv(256).decode())
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=15)
            while "STOPPING=1" not in received:
                received.append(sock.recv(256).decode())
        finally:
            reap(process)
            shutil.rmtree(sockdir, ignore_errors=True)
    assert received[0] == "READY=1" and process.returncode == 0


def test_update_asks_the_root_helper_only_when_signed_and_a_tone_while_connected_marks_health(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys
) -> None:
    config = write_config(tmp_path, device_broker, [keys.public_b64])
    request, marker = config.state_dir / "update-request", config.state_dir / "health-ok"
    update = {"command": "update", "version": "0.5.0-1", "sha256": "ab" * 32}
    process = spawn(tmp_path / "agent.toml")
    try:
        wait_until(lambda: controller.statuses("online"), what="the birth")
        controller.publish("cmd", Keys().cmd(1, update))  # forged: not the controller's key
        controller.publish("cmd", keys.cmd(2, {"command": "test_tone", "duration_s": 1}))
        controller.wait_event("finished", "test-tone-2")
        assert not request.exists()
        wait_until(marker.exists, what="the health marker after a tone played while connected")
        controller.publish("cmd", keys.cmd(3, update))
        wait_until(request.exists, what="the update request for the root-side helper")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    assert request.read_text() == f"0.5.0-1 {'ab' * 32}\n"
