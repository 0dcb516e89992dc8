"""A full disk, for real: the agent's state and cache on a 1 MiB tmpfs (mounting needs root).

What must happen: an asset that does not fit fails with `asset_failed` reason `disk` and its partial file is
removed; the heartbeat reports `disk_free_mb`; the state database stays intact; assets no plan needs are
evicted; an asset that fits still plays; every event reaches the controller once, in order.
"""

import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from edge_agent.state import State
from tests.edge_agent.support import (
    Audio,
    Controller,
    Keys,
    assert_events_once_in_order,
    assert_state_intact,
    asset_server,
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


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs; skipped where this user may not mount (CI runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_is_reported_and_never_corrupts_state(
    tmp_path: Path,
    tiny_disk: Path,
    *,
    device_broker: BrokerFixture,
    controller: Controller,
    keys: Keys,
    short_mp3: Audio,
) -> None:
    for name in ("state", "cache"):
        (tiny_disk / name).mkdir()
        (tmp_path / name).symlink_to(tiny_disk / name)
    config = write_config(tmp_path, device_broker, [keys.public_b64])
    # An old asset still in the index (evicted when the disk fills) and an orphan a kill -9 left between
    # the rename and the index (swept at start).
    stale, orphan = (random_audio(tmp_path / f"{n}.bin", 150_000, 500) for n in ("stale", "orphan"))
    for audio in (stale, orphan):
        (config.cache_dir / f"{audio.sha256}.mp3").write_bytes(audio.path.read_bytes())
    state = State(config.state_dir / "agent.sqlite3")
    state.add_asset(stale.sha256, stale.size, now_utc())
    state.close()
    huge = random_audio(tmp_path / "huge.bin", 3_000_000, 500)
    agent = None
    with asset_server() as server:
        small, big = server.add(short_mp3), server.add(huge)
        opens = now_utc()
        items = [item("big", big, opens), item("small", small, opens + timedelta(seconds=1))]
        body = plan(1, [window("now", opens, opens + timedelta(minutes=5))], items)
        controller.publish("plan", keys.plan(1, body), retain=True)
        try:
            agent = spawn(tmp_path / "agent.toml")
            failed = controller.wait_event("asset_failed", timeout=20)
            controller.wait_event("finished", "small", timeout=20)
            beat = wait_until(lambda: controller.received("heartbeat"), what="a heartbeat")[-1]
            assert agent.poll() is None, "a full disk must not stop the agent"
            stop(agent)
        finally:
            reap(agent)
    assert failed[0]["sha256"] == huge.sha256 and failed[0]["reason"] == "disk"
    assert not (config.cache_dir / f"{orphan.sha256}.mp3").exists(), "the orphan was swept at start"
    assert not (config.cache_dir / f"{stale.sha256}.mp3").exists(), "no plan needs it: evicted"
    assert 0 <= beat["disk_free_mb"] < 1.0
    assert not list((config.cache_dir / "partial").glob("*.part")), "the partial file gave its space back"
    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["small"]
    assert_events_once_in_order(controller)
    assert_state_intact(config.state_dir)
