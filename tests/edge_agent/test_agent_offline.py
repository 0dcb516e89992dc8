"""Offline and restart: the plan plays while the broker is down, the outbox delivers afterwards, nothing
is lost or replayed, and a restarted agent treats the retained plan as a duplicate."""

import json
from datetime import timedelta
from pathlib import Path

from edge_agent.agent import Agent
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
    running_agent,
    wait_until,
    window,
    write_config,
)
from tests.support.services import BrokerFixture
from tests.support.timing import seconds_until


def test_plays_offline_then_delivers_events_and_survives_restart(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    with asset_server() as server:
        asset = server.add(short_mp3)
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        opens = now_utc().replace(microsecond=0) + timedelta(seconds=3)
        closes = opens + timedelta(seconds=30)
        body = plan(1, [window("soon", opens, closes)], [item("i-1", asset, opens)])
        controller.publish("plan", keys.plan(1, body), retain=True)
        with running_agent(Agent(config)) as agent:
            controller.wait_event("asset_ready")
            device_broker.stop()
            wait_until(lambda: not agent.connected, what="the agent to notice the broker is gone")
            wait_until(lambda: plays(tmp_path / "played"), seconds_until(closes), "a play while offline")
            controller.subscribed.clear()
            device_broker.start()
            assert controller.subscribed.wait(10)
            controller.wait_event("finished", "i-1", timeout=15)
            first_boot = agent.boot_id

        with running_agent(Agent(config)) as again:
            wait_until(lambda: again.duplicate_plans >= 1, what="the retained plan to arrive again")
            wait_until(
                lambda: [s for s in controller.received("status") if s.get("boot_id") == again.boot_id]
            )
            assert again.rejections() == {}

    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["i-1"], (
        "played once, not again after restart"
    )
    events = controller.unique_events()
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), "every event arrived, in order, across outage and restart"
    assert [e["type"] for e in events if e.get("item_id") == "i-1"] == ["started", "finished"]
    # Re-subscribing on reconnect delivers the retained birth again (MQTT 3.3.1-9): count each birth once.
    statuses = {json.dumps(s, sort_keys=True): s for s in controller.received("status")}
    births = [Status.from_json(s) for s in statuses.values() if s["state"] == "online"]
    assert [b.boot_id for b in births][-1] != first_boot
    bdseqs = [b.bdseq for b in births]
    assert bdseqs == sorted(bdseqs) and len(set(bdseqs)) == len(bdseqs)
