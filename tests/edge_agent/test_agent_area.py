"""Emergencies on an area topic (DESIGN §5): one signed message for many devices, over the real broker.

The agent listens to the areas its plan names, plays only what names it among the signed targets, keeps a
replay floor per area topic, and the broker's ACL lets it read its own areas' topics only.
"""

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.agent import Agent
from protocol import Asset, Command, Signer, topics
from tests.edge_agent.support import (
    DEVICE,
    DEVICE_PASSWORD,
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

AREA, OTHER_AREA = "ban-lim", "ban-phinh"


@pytest.fixture
def area_broker(broker: BrokerFixture) -> BrokerFixture:
    """The broker with the test device's account, which may read its village's area topic."""
    broker.add(DEVICE, DEVICE_PASSWORD, areas=(AREA,))
    return broker


@pytest.fixture
def area_controller(area_broker: BrokerFixture) -> Iterator[Controller]:
    client = Controller(area_broker)
    yield client
    client.close()


@pytest.fixture
def served(short_mp3: Audio) -> Iterator[Asset]:
    """The emergency's audio, on a real HTTP server for the test's length."""
    with asset_server() as server:
        yield server.add(short_mp3)


def _publish_area(broker: BrokerFixture, area: str, payload: bytes) -> None:
    """Publish on an area topic with the controller's account (which may write every loaxa topic)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-area-sender")
    client.username_pw_set(BrokerFixture.CONTROLLER, "controller-secret")
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.publish(topics.area_topic(area), payload, qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def _play_now(  # noqa: PLR0917 - the message's parts, each varied by the tests
    signer: Signer, area: str, seq: int, targets: list[str], item_id: str, asset: Asset
) -> bytes:
    """A signed `play_now` for `targets` on `area`'s topic."""
    urgent = item(item_id, asset, now_utc(), priority="emergency")
    body = Command("play_now", item=urgent, repeat=1, gap_s=0).to_json()
    return signer.seal_area(kind="cmd", area=area, targets=targets, seq=seq, body=body, issued_at=now_utc())


def _listening(controller: Controller, keys: Keys) -> None:
    """Give the agent a plan naming its area, and wait until it reported holding it."""
    opens = hours_away(3, timedelta(minutes=30))
    body = replace(plan(1, [window("later", opens, opens + timedelta(minutes=30))], []), areas=(AREA,))
    controller.publish("plan", keys.plan(1, body), retain=True)
    controller.wait_event("received")


def test_only_the_targets_of_an_area_message_play_it(
    tmp_path: Path, area_broker: BrokerFixture, area_controller: Controller, keys: Keys, served: Asset
) -> None:
    config = write_config(tmp_path, area_broker, [keys.public_b64])
    agent = Agent(config)
    with running_agent(agent):
        _listening(area_controller, keys)
        _publish_area(area_broker, AREA, _play_now(keys.signer, AREA, 10, ["tule-c02"], "e-others", served))
        _publish_area(
            area_broker, AREA, _play_now(keys.signer, AREA, 11, [DEVICE, "tule-c02"], "e-ours", served)
        )
        area_controller.wait_event("finished", "e-ours")
    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["e-ours"]
    assert area_controller.events(item_id="e-others") == []
    assert agent.rejections() == {}


def test_replayed_forged_and_misrouted_area_messages_are_refused(
    tmp_path: Path, area_broker: BrokerFixture, area_controller: Controller, keys: Keys, served: Asset
) -> None:
    config = write_config(tmp_path, area_broker, [keys.public_b64])
    agent = Agent(config)
    forger = Signer(Ed25519PrivateKey.generate())
    with running_agent(agent):
        _listening(area_controller, keys)
        first = _play_now(keys.signer, AREA, 20, [DEVICE], "e-first", served)
        _publish_area(area_broker, AREA, first)
        area_controller.wait_event("finished", "e-first")
        _publish_area(area_broker, AREA, first)  # the same message again
        _publish_area(area_broker, AREA, _play_now(keys.signer, AREA, 19, [DEVICE], "e-older", served))
        _publish_area(area_broker, AREA, _play_now(forger, AREA, 30, [DEVICE], "e-forged", served))
        _publish_area(area_broker, AREA, _play_now(keys.signer, OTHER_AREA, 31, [DEVICE], "e-moved", served))
        wait_until(lambda: sum(agent.rejections().values()) >= 3, what="three rejections")
        # The same message again (published first, so handled before the rest) is what QoS 1 delivers
        # again after a reconnect: not played, and not counted as an attack.
    assert agent.rejections() == {"area.replayed": 1, "area.bad_signature": 1, "area.foreign_area": 1}
    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["e-first"]


def test_a_device_may_read_only_its_own_areas_topics(area_broker: BrokerFixture) -> None:
    arrived: list[str] = []
    acked = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=DEVICE)
    client.username_pw_set(DEVICE, DEVICE_PASSWORD)
    client.on_subscribe = lambda *_args: acked.set()
    client.on_message = lambda _c, _u, message: arrived.append(message.topic)
    client.connect(area_broker.host, area_broker.port)
    client.loop_start()
    try:
        client.subscribe([(topics.area_topic(AREA), 1), (topics.area_topic(OTHER_AREA), 1)])
        assert acked.wait(5)
        _publish_area(area_broker, OTHER_AREA, b"{}")
        _publish_area(area_broker, AREA, b"{}")
        wait_until(lambda: topics.area_topic(AREA) in arrived, what="the own area's message")
    finally:
        client.disconnect()
        client.loop_stop()
    # mosquitto 2.0 grants the SUBSCRIBE and applies the read ACL to each message: the other area's,
    # published first, never arrives.
    assert arrived == [topics.area_topic(AREA)]
