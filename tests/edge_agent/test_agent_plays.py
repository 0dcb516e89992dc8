"""The agent end to end on a real broker: plan → download → play inside the window → events in order."""

import threading
from datetime import timedelta
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from edge_agent.agent import Agent
from edge_agent.amplifier import GpioAmplifier
from edge_agent.clock import SystemClock
from edge_agent.player import FileSinkPlayer, Track
from protocol import Event, Heartbeat, Status
from protocol.timefmt import parse_utc
from tests.edge_agent.support import (
    AssetServer,
    Audio,
    Controller,
    Keys,
    asset_server,
    item,
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

PIN = 17


class AmpCheckingPlayer(FileSinkPlayer):
    """The file sink, also noting whether the amplifier relay is on when a play begins and ends."""

    def __init__(self, output_dir: Path, amplifier: GpioAmplifier) -> None:
        super().__init__(output_dir, SystemClock())
        self.amplifier = amplifier
        self.amp_during: list[tuple[bool, bool]] = []

    def play(self, track: Track, cancel: threading.Event) -> bool:
        before = self.amplifier.is_on
        result = super().play(track, cancel)
        self.amp_during.append((before, self.amplifier.is_on))
        return result


def test_plays_in_window_with_amplifier_and_reports_in_order(  # noqa: PLR0917 - pytest fixtures
    tmp_path: Path,
    device_broker: BrokerFixture,
    controller: Controller,
    keys: Keys,
    short_mp3: Audio,
    mock_pins: MockFactory,
) -> None:
    server: AssetServer
    with asset_server() as server:
        asset = server.add(short_mp3)
        config = write_config(tmp_path, device_broker, [keys.public_b64], "")
        opens = now_utc().replace(microsecond=0) + timedelta(seconds=3)
        closes = opens + timedelta(seconds=20)
        body = plan(1, [window("soon", opens, closes)], [item("i-1", asset, opens)])
        controller.publish("plan", keys.plan(10, body), retain=True)
        amplifier = GpioAmplifier(PIN, warmup_s=0.2)
        player = AmpCheckingPlayer(tmp_path / "played", amplifier)
        with running_agent(Agent(config, player=player, amplifier=amplifier)) as agent:
            ready = controller.wait_event("asset_ready")
            assert ready[0]["sha256"] == short_mp3.sha256
            assert (
                agent.config.cache_dir.joinpath(f"{short_mp3.sha256}.mp3").read_bytes()
                == short_mp3.path.read_bytes()
            )
            finished = controller.wait_event("finished", "i-1", timeout=seconds_until(closes))
            wait_until(lambda: controller.received("heartbeat"), what="a heartbeat")
            assert not mock_pins.pin(PIN).state, "amplifier must be off after playback"

    played = plays(tmp_path / "played")
    assert len(played) == 1
    assert parse_utc(played[0]["started_at"]) >= opens, "played before the window opened"
    duration = parse_utc(played[0]["finished_at"]) - parse_utc(played[0]["started_at"])
    assert duration >= timedelta(milliseconds=short_mp3.duration_ms)
    assert (tmp_path / "played" / played[0]["file"]).read_bytes() == short_mp3.path.read_bytes()
    assert player.amp_during == [(True, True)]

    events = [Event.from_json(e) for e in controller.received("events")]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "no event may be missing"
    kinds = [e.type for e in events]
    assert kinds[:1] == ["received"]
    assert kinds.index("asset_ready") < kinds.index("started") < kinds.index("finished")
    started = next(e for e in events if e.type == "started")
    assert started.at >= opens and started.item_id == "i-1" and started.plan_version == 1
    assert finished[0]["bulletin_id"] == 7

    births = [Status.from_json(s) for s in controller.received("status")]
    assert births[0].state == "online" and births[0].boot_id == agent.boot_id
    assert births[-1].state == "offline", "a clean stop publishes the offline status itself"
    beat = Heartbeat.from_json(controller.received("heartbeat")[0])
    assert beat.boot_id == agent.boot_id and beat.agent_version == agent.version
    assert beat.mem_used_pct is not None and beat.disk_free_mb is not None and beat.net
    assert beat.plan_version in (0, 1)


def test_the_amplifier_warms_up_before_the_planned_start(
    tmp_path: Path, device_broker: BrokerFixture, keys: Keys, short_mp3: Audio, mock_pins: MockFactory
) -> None:
    warmup = 1.5
    with asset_server() as server:
        asset = server.add(short_mp3)
        config = write_config(
            tmp_path, device_broker, [keys.public_b64], f"[amplifier]\nwarmup_s = {warmup}\n"
        )
        opens = now_utc().replace(microsecond=0) + timedelta(seconds=4)
        closes = opens + timedelta(seconds=30)
        body = plan(1, [window("soon", opens, closes)], [item("i-1", asset, opens)])
        amplifier = GpioAmplifier(PIN, warmup_s=warmup)
        player = AmpCheckingPlayer(tmp_path / "played", amplifier)
        with running_agent(Agent(config, player=player, amplifier=amplifier)):
            controller = Controller(device_broker)
            try:
                controller.publish("plan", keys.plan(1, body), retain=True)
                wait_until(lambda: plays(tmp_path / "played"), seconds_until(closes), "the play")
            finally:
                controller.close()
            wait_until(lambda: not mock_pins.pin(PIN).state, what="the relay off after the play")
    late = parse_utc(plays(tmp_path / "played")[0]["started_at"]) - opens
    assert late < timedelta(seconds=warmup), f"started {late} after the planned start: no warm-up ahead"
    assert player.amp_during == [(True, True)]
    mock_pins.pin(PIN).assert_states([False, True, False])
