"""The managed mosquitto: no anonymous access, and each device only on its own topics (ACL `%u`)."""

import threading

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from protocol import topics
from tests.support.services import BrokerFixture


def _connect(
    broker: BrokerFixture, username: str | None, password: str | None
) -> tuple[mqtt.Client, ReasonCode]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=username or "anon", protocol=mqtt.MQTTv311)
    if username is not None:
        client.username_pw_set(username, password)
    done = threading.Event()
    result: list[ReasonCode] = []

    def on_connect(_c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object) -> None:
        result.append(rc)
        done.set()

    client.on_connect = on_connect
    client.connect(broker.host, broker.port)
    client.loop_start()
    assert done.wait(5), "no CONNACK"
    return client, result[0]


def test_anonymous_and_wrong_password_are_refused(broker: BrokerFixture) -> None:
    broker.add("tule-c01", "right")
    for user, password in [(None, None), ("tule-c01", "wrong")]:
        client, rc = _connect(broker, user, password)
        client.loop_stop()
        assert rc.is_failure


def test_device_reads_only_its_own_plan(broker: BrokerFixture) -> None:
    broker.add("tule-c01", "p1")
    broker.add("tule-c02", "p2")
    controller, rc = _connect(broker, BrokerFixture.CONTROLLER, "controller-secret")
    assert not rc.is_failure
    for device in ("tule-c01", "tule-c02"):
        controller.publish(
            topics.device_topic(device, "plan"), f"plan for {device}", qos=1, retain=True
        ).wait_for_publish(5)

    spy, rc = _connect(broker, "tule-c01", "p1")
    got: list[str] = []
    both = threading.Event()
    spy.on_message = lambda _c, _u, msg: (got.append(msg.topic), len(got) >= 1 and both.set())
    spy.subscribe(topics.fleet_filter("plan"), qos=1)
    assert both.wait(5)
    spy.loop_stop()
    controller.loop_stop()
    assert got == [topics.device_topic("tule-c01", "plan")]


@pytest.mark.parametrize("channel", ["heartbeat", "status", "events"])
def test_device_cannot_publish_as_another(broker: BrokerFixture, channel: topics.DeviceChannel) -> None:
    broker.add("tule-c01", "p1")
    controller, _ = _connect(broker, BrokerFixture.CONTROLLER, "controller-secret")
    seen: list[str] = []
    arrived = threading.Event()
    controller.on_message = lambda _c, _u, msg: (seen.append(msg.topic), arrived.set())
    subscribed = threading.Event()
    controller.on_subscribe = lambda *_: subscribed.set()
    controller.subscribe(topics.fleet_filter(channel), qos=1)
    assert subscribed.wait(5), "no SUBACK"
    attacker, _ = _connect(broker, "tule-c01", "p1")
    attacker.publish(topics.device_topic("tule-c02", channel), b"{}", qos=1).wait_for_publish(5)
    attacker.publish(topics.device_topic("tule-c01", channel), b"{}", qos=1).wait_for_publish(5)
    assert arrived.wait(5)
    attacker.loop_stop()
    controller.loop_stop()
    assert seen == [topics.device_topic("tule-c01", channel)]
