"""Emergencies interrupt a normal item, which resumes while its window is open; closed windows are skipped."""

from datetime import timedelta
from pathlib import Path

from edge_agent.agent import Agent
from protocol import Command
from tests.edge_agent.support import (
    Audio,
    Controller,
    Keys,
    asset_server,
    item,
    now_utc,
    plan,
    plays,
    running_agent,
    window,
    write_config,
)
from tests.support.services import BrokerFixture
from tests.support.timing import seconds_until


def test_emergency_interrupts_then_normal_resumes(  # noqa: PLR0917 - pytest fixtures
    tmp_path: Path,
    device_broker: BrokerFixture,
    controller: Controller,
    keys: Keys,
    short_mp3: Audio,
    other_mp3: Audio,
) -> None:
    with asset_server() as server:
        normal_asset, urgent_asset = server.add(short_mp3), server.add(other_mp3)
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        opens = now_utc().replace(microsecond=0) + timedelta(seconds=2)
        closes = opens + timedelta(seconds=25)
        body = plan(1, [window("soon", opens, closes)], [item("n-1", normal_asset, opens)])
        controller.publish("plan", keys.plan(1, body), retain=True)
        with running_agent(Agent(config)):
            controller.wait_event("started", "n-1", timeout=seconds_until(closes))
            urgent = item("e-1", urgent_asset, now_utc(), priority="emergency")
            controller.publish(
                "cmd", keys.cmd(1, Command("play_now", item=urgent, repeat=2, gap_s=1).to_json())
            )
            controller.wait_event("finished", "n-1", timeout=seconds_until(closes))

    order = [(e["type"], e.get("item_id")) for e in controller.received("events") if e.get("item_id")]
    assert order[order.index(("started", "n-1")) :] == [
        ("started", "n-1"),
        ("received", "e-1"),
        ("interrupted", "n-1"),
        ("started", "e-1"),
        ("finished", "e-1"),
        ("started", "e-1"),
        ("finished", "e-1"),
        ("started", "n-1"),
        ("finished", "n-1"),
    ]
    assert controller.events("interrupted", "n-1")[0]["reason"] == "emergency"
    assert [(p["item_id"], p["completed"]) for p in plays(tmp_path / "played")] == [
        ("n-1", False),
        ("e-1", True),
        ("e-1", True),
        ("n-1", True),
    ]


def test_closed_window_and_expired_items_are_skipped(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    with asset_server() as server:
        asset = server.add(short_mp3)
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        now = now_utc().replace(microsecond=0)
        closed = window("closed", now - timedelta(seconds=30), now - timedelta(seconds=10))
        late = item("late", asset, now - timedelta(seconds=25), window="closed")
        gone = item(
            "gone", asset, now - timedelta(seconds=25), not_before=now - timedelta(minutes=9), not_after=now
        )
        controller.publish("plan", keys.plan(1, plan(1, [closed], [late, gone])), retain=True)
        with running_agent(Agent(config)):
            skipped = controller.wait_event("skipped", count=2)
    assert {(e["item_id"], e["reason"]) for e in skipped} == {("late", "window_closed"), ("gone", "expired")}
    assert plays(tmp_path / "played") == []


def test_new_plan_without_the_playing_item_cancels_it(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    with asset_server() as server:
        asset = server.add(short_mp3)
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        opens = now_utc().replace(microsecond=0) + timedelta(seconds=2)
        closes = opens + timedelta(seconds=20)
        windows = [window("soon", opens, closes)]
        controller.publish("plan", keys.plan(1, plan(1, windows, [item("old", asset, opens)])), retain=True)
        with running_agent(Agent(config)):
            controller.wait_event("started", "old", timeout=seconds_until(closes))
            controller.publish(
                "plan", keys.plan(2, plan(2, windows, [item("new", asset, opens)])), retain=True
            )
            controller.wait_event("finished", "new", timeout=seconds_until(closes))
    assert controller.events("interrupted", "old")[0]["reason"] == "cancelled"
    assert [(p["item_id"], p["completed"]) for p in plays(tmp_path / "played")] == [
        ("old", False),
        ("new", True),
    ]
    assert [e["plan_version"] for e in controller.events("received")] == [1, 2]
