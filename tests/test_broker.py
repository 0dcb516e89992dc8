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

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(msg.topic)
        both.set()

    spy.on_message = on_message
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

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        seen.append(msg.topic)
        arrived.set()

    controller.on_message = on_message
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


def _subscribed(client: mqtt.Client, topic_filters: list[str]) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *_: done.set()
    client.subscribe([(f, 1) for f in topic_filters])
    assert done.wait(5), "no SUBACK"


def _collect(client: mqtt.Client, sentinel: str) -> tuple[list[str], threading.Event]:
    got: list[str] = []
    seen = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(msg.topic)
        if msg.topic == sentinel:
            seen.set()

    client.on_message = on_message
    return got, seen


def test_device_cannot_command_or_plan_another_nor_retain_its_own_plan(broker: BrokerFixture) -> None:
    broker.add("tule-c01", "p1")
    controller, _ = _connect(broker, BrokerFixture.CONTROLLER, "controller-secret")
    sentinel = topics.device_topic("tule-c01", "status")
    got, seen = _collect(controller, sentinel)
    _subscribed(controller, [topics.fleet_filter("plan"), topics.fleet_filter("cmd"), sentinel])
    attacker, _ = _connect(broker, "tule-c01", "p1")
    forged: list[tuple[str, topics.DeviceChannel]] = [
        ("tule-c02", "plan"),
        ("tule-c02", "cmd"),
        ("tule-c01", "plan"),
        ("tule-c01", "cmd"),
    ]
    for device, channel in forged:
        attacker.publish(
            topics.device_topic(device, channel), b'{"forged":true}', qos=1, retain=True
        ).wait_for_publish(5)
    # Same connection, QoS 1: the broker routes in order, so the sentinel comes after anything let through.
    attacker.publish(sentinel, b"{}", qos=1).wait_for_publish(5)
    assert seen.wait(5)
    attacker.loop_stop()
    controller.loop_stop()
    assert got == [sentinel]
    late, _ = _connect(broker, BrokerFixture.CONTROLLER, "controller-secret")
    live = topics.device_topic("tule-c09", "plan")
    retained, arrived = _collect(late, live)
    _subscribed(late, [topics.fleet_filter("plan")])
    # Retained messages are sent on subscribing, so they come before this live one.
    late.publish(live, b"live", qos=1).wait_for_publish(5)
    assert arrived.wait(5)
    late.loop_stop()
    assert retained == [live], "no retained plan may come from a device"


def test_wildcard_subscriptions_leak_nothing_of_other_devices(broker: BrokerFixture) -> None:
    broker.add("tule-c01", "p1")
    broker.add("tule-c02", "p2")
    spy, _ = _connect(broker, "tule-c01", "p1")
    own_plan = topics.device_topic("tule-c01", "plan")
    got, seen = _collect(spy, own_plan)
    _subscribed(spy, ["#", f"{topics.PREFIX}/#", "$SYS/#"])
    neighbour, _ = _connect(broker, "tule-c02", "p2")
    neighbour.publish(topics.device_topic("tule-c02", "heartbeat"), b"{}", qos=1).wait_for_publish(5)
    neighbour.publish(topics.device_topic("tule-c02", "events"), b"{}", qos=1).wait_for_publish(5)
    controller, _ = _connect(broker, BrokerFixture.CONTROLLER, "controller-secret")
    for channel in ("plan", "cmd"):
        controller.publish(topics.device_topic("tule-c02", channel), b"secret", qos=1).wait_for_publish(5)
    controller.publish(own_plan, b"mine", qos=1).wait_for_publish(5)
    assert seen.wait(5)
    for client in (spy, neighbour, controller):
        client.loop_stop()
    assert set(got) == {own_plan}


class _Session:
    """A client on a listener that records whether the broker has thrown it off."""

    def __init__(self, broker: BrokerFixture, username: str, password: str, client_id: str, url: str) -> None:
        unix = url.startswith("unix://")
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, transport="unix" if unix else "tcp"
        )
        self.client.username_pw_set(username, password)
        self.connected = threading.Event()
        self.dropped = threading.Event()
        self.client.on_connect = lambda *_: self.connected.set()
        self.client.on_disconnect = lambda *_: self.dropped.set()
        host, port = (url.removeprefix("unix://"), 1) if unix else (broker.host, broker.port)
        self.client.connect(host, port)
        self.client.loop_start()
        assert self.connected.wait(5), f"{username} got no CONNACK"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_device_cannot_throw_another_client_off_by_taking_its_client_id(broker: BrokerFixture) -> None:
    """DESIGN §5: client id = username on the devices' listener; the controller keeps its own id."""
    broker.add("tule-c01", "p1")
    broker.add("tule-c02", "p2")
    controller_id = "loaxa-controller-host-1234"
    controller = _Session(
        broker, BrokerFixture.CONTROLLER, "controller-secret", controller_id, broker.controller_url
    )
    victim = _Session(broker, "tule-c01", "p1", "tule-c01", broker.url)
    intruders = [
        _Session(broker, "tule-c02", "p2", client_id, broker.url) for client_id in ("tule-c01", controller_id)
    ]
    # The intruders are connected (as themselves); a take-over would have dropped the others by now,
    # since mosquitto disconnects the old session before it acknowledges the new one.
    assert not victim.dropped.is_set()
    assert not controller.dropped.is_set()
    for session in (*intruders, victim, controller):
        session.close()


def test_the_controller_listener_keeps_each_workers_client_id(broker: BrokerFixture) -> None:
    """Several controller workers share the uplink (shared subscriptions) under one login, distinct ids."""
    workers = [
        _Session(broker, BrokerFixture.CONTROLLER, "controller-secret", f"worker-{n}", broker.controller_url)
        for n in (1, 2)
    ]
    assert not any(worker.dropped.is_set() for worker in workers)
    for worker in workers:
        worker.close()
