"""Broker files for a province: the relay's bridge section, relay accounts, and `loaxa broker accounts`.

Each behaviour is checked on real mosquitto processes: a province broker and a commune relay bridged to it.
"""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from controller import services
from controller.config import load_settings
from controller.db import Database, upgrade
from controller.mqtt.accounts import BrokerAccount, hash_password
from controller.mqtt.broker import Bridge, ManagedBroker, bridge
from loaxa.cli import main as loaxa
from protocol import topics
from tests.support.services import free_port

CONTROLLER = BrokerAccount("province-controller", hash_password("c-secret"), "controller")
RELAY = BrokerAccount("bridge-tule", hash_password("r-secret"), "bridge", ("tule-c01", "tule-c02"))


def _client(port: int, username: str, password: str, *, client_id: str | None = None) -> mqtt.Client:
    """A connected paho client with its loop running (fails the test when the login is refused)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or username, protocol=mqtt.MQTTv311)
    client.username_pw_set(username, password)
    accepted = threading.Event()
    client.on_connect = lambda _c, _u, _f, rc, _p: None if rc.is_failure else accepted.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert accepted.wait(5), f"{username} was not accepted"
    return client


def _inbox(client: mqtt.Client, filters: list[str]) -> dict[str, mqtt.MQTTMessage]:
    """Subscribe and collect the last message per topic."""
    got: dict[str, mqtt.MQTTMessage] = {}
    subscribed = threading.Event()
    client.on_message = lambda _c, _u, msg: got.__setitem__(msg.topic, msg)
    client.on_subscribe = lambda *_: subscribed.set()
    client.subscribe([(f, 1) for f in filters])
    assert subscribed.wait(5), "no SUBACK"
    return got


def _eventually(what: str, probe: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def test_bridge_settings_become_a_connection_section() -> None:
    settings = load_settings(
        {
            "LOAXA_MQTT_BRIDGE_URL": "mqtts://mqtt.yenbai.example:8883",
            "LOAXA_MQTT_BRIDGE_USERNAME": "bridge-tule",
            "LOAXA_MQTT_BRIDGE_PASSWORD": "s3cret",
            "LOAXA_MQTT_BRIDGE_CAFILE": "/etc/loaxa/province-ca.pem",
        }
    )
    found = bridge(settings.mqtt)
    assert found is not None
    lines = found.config_lines()
    assert lines[:5] == [
        "connection bridge-tule",
        "address mqtt.yenbai.example:8883",
        "remote_clientid bridge-tule",
        "remote_username bridge-tule",
        "remote_password s3cret",
    ]
    assert {"cleansession false", "try_private true", "bridge_cafile /etc/loaxa/province-ca.pem"} <= set(
        lines
    )
    assert [line for line in lines if line.startswith("topic ")] == [
        "topic loaxa/v1/dev/+/plan in 1",
        "topic loaxa/v1/dev/+/cmd in 1",
        "topic loaxa/v1/area/+/cmd in 1",
        "topic loaxa/v1/dev/+/status out 1",
        "topic loaxa/v1/dev/+/heartbeat out 0",
        "topic loaxa/v1/dev/+/events out 1",
    ]
    assert bridge(load_settings({}).mqtt) is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LOAXA_MQTT_BRIDGE_USERNAME": "b"}, "LOAXA_MQTT_BRIDGE_PASSWORD"),
        ({"LOAXA_MQTT_BRIDGE_USERNAME": "b", "LOAXA_MQTT_BRIDGE_PASSWORD": "two words"}, "spaces"),
        ({"LOAXA_MQTT_BRIDGE_URL": "province:1883"}, "mqtts://host:8883"),
    ],
)
def test_a_bridge_without_a_usable_account_or_url_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_settings({"LOAXA_MQTT_BRIDGE_URL": "mqtt://province:1883", **environ})


@pytest.fixture
def province(tmp_path: Path) -> Iterator[ManagedBroker]:
    """A province broker with the controller, the Tú Lệ relay and one device of another commune."""
    broker = ManagedBroker(tmp_path / "province", port=free_port())
    broker.start([CONTROLLER, RELAY, BrokerAccount("muong-c01", hash_password("m"), "device")])
    yield broker
    broker.stop()


def test_relay_account_carries_only_its_own_communes_devices(province: ManagedBroker) -> None:
    controller = _client(province.port, "province-controller", "c-secret")
    uplink = _inbox(controller, [topics.fleet_filter("status"), topics.fleet_filter("events")])
    relay = _client(province.port, "bridge-tule", "r-secret")
    downlink = _inbox(relay, [topics.fleet_filter("plan"), topics.fleet_filter("cmd")])
    for device in ("muong-c01", "tule-c02"):
        controller.publish(topics.device_topic(device, "plan"), b"plan", qos=1, retain=True).wait_for_publish(
            5
        )
        relay.publish(topics.device_topic(device, "status"), b"forged?", qos=1).wait_for_publish(5)
    relay.publish(topics.device_topic("tule-c01", "events"), b"last", qos=1).wait_for_publish(5)
    _eventually("the last event", lambda: topics.device_topic("tule-c01", "events") in uplink)
    _eventually("tule-c02's plan", lambda: topics.device_topic("tule-c02", "plan") in downlink)
    for client in (controller, relay):
        client.loop_stop()
    assert set(uplink) == {
        topics.device_topic("tule-c02", "status"),
        topics.device_topic("tule-c01", "events"),
    }
    assert set(downlink) == {topics.device_topic("tule-c02", "plan")}


def test_a_plan_published_at_the_province_stays_retained_on_the_relay(
    province: ManagedBroker, tmp_path: Path
) -> None:
    relay = ManagedBroker(
        tmp_path / "relay",
        port=free_port(),
        bridge=Bridge(url=province.url, username="bridge-tule", password="r-secret", name="bridge-tule"),
    )
    relay.start([BrokerAccount("tule-c01", hash_password("p1"), "device")])
    try:
        controller = _client(province.port, "province-controller", "c-secret")
        uplink = _inbox(controller, [topics.fleet_filter("events")])
        plan = topics.device_topic("tule-c01", "plan")
        controller.publish(plan, b"plan v1", qos=1, retain=True).wait_for_publish(5)
        agent = _client(relay.port, "tule-c01", "p1")
        received = _inbox(agent, [plan])
        _eventually("plan v1 through the bridge", lambda: plan in received)
        # Published while the bridge is subscribed: it must stay retained on the relay too, so an agent
        # that restarts while the province link is down still finds its plan.
        controller.publish(plan, b"plan v2", qos=1, retain=True).wait_for_publish(5)
        _eventually("plan v2 through the bridge", lambda: received[plan].payload == b"plan v2")
        agent.disconnect()  # the agent restarts (its client id is its login: one session per device)
        agent.loop_stop()
        restarted = _client(relay.port, "tule-c01", "p1", client_id="tule-c01-restarted")
        retained = _inbox(restarted, [plan])
        _eventually("the retained plan on the relay", lambda: plan in retained)
        assert retained[plan].retain and retained[plan].payload == b"plan v2"
        restarted.publish(topics.device_topic("tule-c01", "events"), b'{"seq":1}', qos=1).wait_for_publish(5)
        _eventually("the event at the province", lambda: topics.device_topic("tule-c01", "events") in uplink)
        for client in (controller, restarted):
            client.loop_stop()
    finally:
        relay.stop()


def test_broker_accounts_writes_the_registry_for_an_operators_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'loaxa.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        services.seed_demo(session, datetime.now(UTC), "demo-password")
    database.dispose()
    monkeypatch.setenv("LOAXA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("LOAXA_MQTT_MODE", "external")
    out = tmp_path / "out"
    monkeypatch.setenv("LOAXA_MQTT_PASSWORD", "")
    assert loaxa(["broker", "accounts", "--out", str(out)]) == 2
    assert "LOAXA_MQTT_PASSWORD" in capsys.readouterr().err

    monkeypatch.setenv("LOAXA_MQTT_PASSWORD", "controller-secret")
    assert loaxa(["broker", "accounts", "--out", str(out), "--bridge", "tule"]) == 0
    users = [line.split(":")[0] for line in (out / "passwd").read_text().splitlines()]
    assert users[0] == "loaxa-controller" and "tule-c12" in users and users[-1] == "bridge-tule"
    acl = (out / "acl").read_text()
    assert "topic write loaxa/v1/dev/tule-c12/events" in acl and "pattern read loaxa/v1/dev/%u/plan" in acl
    secret = (out / "bridge-tule.password").read_text()
    assert (out / "bridge-tule.password").stat().st_mode & 0o077 == 0
    assert (out / "passwd").stat().st_mode & 0o777 == 0o600
    (out / "passwd").chmod(0o640)  # what the operator does so that the broker's group can read it
    assert loaxa(["broker", "accounts", "--out", str(out), "--bridge", "tule"]) == 0
    assert (out / "bridge-tule.password").read_text() == secret, "a rerun must keep the relay's password"
    assert (out / "passwd").stat().st_mode & 0o777 == 0o640, "a rerun must keep the operator's mode"
