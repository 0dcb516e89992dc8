"""What the agent refuses: forged, replayed, foreign, malformed, oversized messages; it keeps going."""

from datetime import timedelta
from pathlib import Path

from edge_agent.agent import Agent
from protocol import Command
from tests.edge_agent.support import (
    Audio,
    Controller,
    Keys,
    asset_server,
    hours_away,
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


def test_bad_messages_are_counted_and_emergency_plays_outside_windows(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    with asset_server() as server:
        asset = server.add(short_mp3)
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        later = hours_away(3, timedelta(minutes=30))
        # The only window is hours away: nothing in this test may play except the emergency.
        windows = [window("later", later, later + timedelta(minutes=30))]
        normal = item("n-1", asset, later, not_after=later + timedelta(minutes=20))
        controller.publish("plan", keys.plan(5, plan(3, windows, [normal])), retain=True)
        with running_agent(Agent(config)) as agent:
            controller.wait_event("received")
            forger = Keys()
            controller.publish("plan", forger.plan(6, plan(4, windows, [normal])))
            controller.publish("plan", keys.plan(4, plan(2, windows, [normal])))
            controller.publish("plan", keys.plan(5, plan(3, windows, [normal])))  # the retained copy again
            controller.publish("plan", keys.plan(7, plan(5, windows, [normal]), device="tule-c02"))
            controller.publish("plan", b"{not json")
            controller.publish("plan", b"\xff\xfe")
            controller.publish("plan", b'{"v":1,' + b" " * (1024 * 1024 + 10) + b"}")
            bad_body = keys.signer.seal(
                kind="plan", device="tule-c01", seq=8, body={"version": 0}, issued_at=now_utc()
            )
            controller.publish("plan", bad_body)
            controller.publish("cmd", b"[]")
            controller.publish("cmd", b"x" * (1024 * 1024 + 1))
            controller.publish("cmd", keys.cmd(1, {"command": "explode"}))
            controller.publish("cmd", keys.cmd(2, {"command": "set_volume", "volume": 55}))
            controller.publish(
                "cmd", keys.cmd(2, {"command": "set_volume", "volume": 10})
            )  # same seq: replay
            controller.publish("cmd", keys.plan(9, plan(6, windows, [normal])))  # a plan on the cmd topic
            emergency = item("e-1", asset, now_utc(), priority="emergency", bulletin_id=9)
            play_now = Command("play_now", item=emergency, repeat=2, gap_s=0)
            controller.publish("cmd", keys.cmd(3, play_now.to_json()))

            finished = controller.wait_event("finished", "e-1", count=2, timeout=20)
            assert agent.rejections() == {
                "plan.bad_signature": 1,
                "plan.replayed": 1,
                "plan.foreign_device": 1,
                "plan.bad_json": 1,
                "plan.bad_utf8": 1,
                "plan.too_large": 1,
                "plan.bad_field": 1,
                "cmd.bad_shape": 1,
                "cmd.too_large": 1,
                "cmd.bad_field": 1,
                "cmd.replayed": 1,
                "cmd.wrong_type": 1,
            }
            beat = wait_until(
                lambda: [b for b in controller.received("heartbeat") if b["rejected"]], what="a beat"
            )
            assert beat[-1]["volume"] == 55

    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["e-1", "e-1"]
    assert [p["volume"] for p in plays(tmp_path / "played")] == [55, 55]
    assert finished[-1]["detail"] == "play 2/2"
    assert [e["plan_version"] for e in controller.events("received") if "plan_version" in e] == [3]
