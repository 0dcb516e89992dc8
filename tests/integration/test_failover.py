"""Two controller processes, one scheduler leader, and a fail-over before a window opens (issue 8).

Real parts throughout: a PostgreSQL database, an external mosquitto, two controller processes on their
own HTTP ports, and three agent processes. The bulletin is approved on the follower, so its re-plan
request must reach the leader by NOTIFY; then the leader is killed with SIGKILL before the window opens.
The survivor must become the leader, the agents must play the bulletin exactly once inside the window,
and the play events, all sent after the kill, must reach the as-run log; the killed process comes back
as systemd restarts it, under the same MQTT client id, and follows. Two more tests run
controllers in this process to look inside: a new leader does not send again an emergency the old one
sent, and a leader whose lock connection dies stops planning at once and asks the new leader instead.
"""

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from apscheduler.schedulers.base import STATE_PAUSED
from paho.mqtt.enums import CallbackAPIVersion

from controller import services
from controller.bundle import AgentBundle
from controller.config import load_settings
from controller.db import Database, upgrade
from controller.fencing import LeadershipLost
from controller.keys import load_or_create_keys
from controller.leader import PostgresLeadership
from edge_agent.downloader import asset_path
from loaxa.runtime import Controller
from protocol import topics
from protocol.timefmt import parse_utc
from tests.db.support import postgres_database
from tests.integration.conftest import (
    DEMO_PASSWORD,
    HEARTBEAT_S,
    RULES,
    Api,
    Window,
    wait_for,
    write_window,
)
from tests.support.services import BrokerFixture, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLUSTERS = ["tule-c01", "tule-c02", "tule-c03"]
TEXT = "Xã Tú Lệ thông báo: chiều nay cắt điện từ 14 giờ đến 16 giờ."
RETRY_S = 1.0  # a follower tries for the lock every second: the fail-over bound below follows from it
TAKEOVER_S = 10.0
# The controller as `loaxa controller` runs it, with the integration tests' planning rules: the default
# 60 s lead (time for a plan to reach a Pi on 4G) would place the item far past this test's window.
CONTROLLER = """
import logging
from datetime import timedelta
from controller.config import load_settings
from controller.planning import PlanningRules
from loaxa.runtime import Controller
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("apscheduler").setLevel(logging.WARNING)
rules = PlanningRules(lead=timedelta(seconds=2), gap=timedelta(seconds=1))
Controller(load_settings(), rules=rules).run_forever()
"""


@dataclass
class Cluster:
    """The processes of the test and where they write."""

    root: Path
    env: dict[str, str]
    controllers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    apis: dict[str, Api] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start_controller(self, name: str, port: int) -> Api:
        """Start one controller process on `port` (same database, broker, data directory as the others)."""
        with (self.root / f"{name}.log").open("ab") as log:
            self.controllers[name] = subprocess.Popen(
                [sys.executable, "-c", CONTROLLER],
                env={**self.env, "LOAXA_PORT": str(port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.apis[name] = Api(f"http://127.0.0.1:{port}")
        self.ports[name] = port
        return self.apis[name]

    def start_agent(self, bundle: AgentBundle) -> Path:
        """Start a real agent process; returns its home directory."""
        home = self.root / "agents" / bundle.device_id
        bundle.write(home / "agent.toml")
        with (home / "agent.log").open("ab") as log:
            self.agents[bundle.device_id] = subprocess.Popen(
                [sys.executable, "-m", "loaxa.cli", "agent", "--config", str(home / "agent.toml")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return home

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        processes = [*self.agents.values(), *self.controllers.values()]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def health(api: Api) -> dict[str, Any] | None:
    """The controller's health report, or None while it does not answer yet (or any more)."""
    try:
        status, body = api.call("GET", "/health")
    except OSError:
        return None
    return body if status == 200 else None


def role(api: Api) -> str | None:
    report = health(api)
    return None if report is None else str(report.get("role"))


def sink_log(home: Path) -> list[dict[str, Any]]:
    """What the agent's file sink "played"."""
    log = home / "played" / "plays.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str, broker: BrokerFixture) -> Iterator[tuple[Cluster, Window]]:
    """Seeded database, shared data directory and settings; the window opens 35 s from its writing."""
    with postgres_database(postgres_url) as db_url:
        upgrade(db_url)  # once, before any controller starts (docs/operations.md)
        database = Database(db_url)
        with database.session() as session:
            passwords = services.seed_demo(session, datetime.now(UTC), DEMO_PASSWORD)
        database.dispose()
        for device in CLUSTERS:
            broker.add(device, passwords[device])
        data_dir = tmp_path / "controller"  # shared: one signing key, one URL secret, one asset store
        keys = load_or_create_keys(data_dir / "keys")
        port_a, port_b = free_port(), free_port()
        window = write_window(tmp_path, opens_in_s=35, length_s=25)
        env = {name: value for name, value in os.environ.items() if not name.startswith("LOAXA_")}
        env |= {
            "LOAXA_DATABASE_URL": db_url,
            "LOAXA_DATA_DIR": str(data_dir),
            "LOAXA_SCHEDULE": str(window.path),
            "LOAXA_MQTT_MODE": "external",
            # Several processes share one data dir: a managed Icecast each would stop the other's (as a
            # managed broker would); a province runs one Icecast for all (docs/province.md). None needed here.
            "LOAXA_STREAM_MODE": "off",
            # The controllers' own listener: there each worker keeps its client id (DESIGN §5).
            "LOAXA_MQTT_URL": broker.controller_url,
            "LOAXA_MQTT_USERNAME": broker.CONTROLLER,
            "LOAXA_MQTT_PASSWORD": broker.passwords[broker.CONTROLLER],
            "LOAXA_MQTT_HEARTBEAT_INTERVAL_S": str(int(HEARTBEAT_S)),
            "LOAXA_TTS_ENGINES": "espeak-ng",
            "LOAXA_LEADER_RETRY_S": str(RETRY_S),
            "LOAXA_LEADER_CHECK_S": "0.5",
            # Every process must sign the same asset URLs (plans stay byte-identical across a fail-over),
            # so they share one public URL: in production a load balancer's; here the survivor's port.
            "LOAXA_HTTP_PUBLIC_URL": f"http://127.0.0.1:{port_b}",
        }
        running = Cluster(tmp_path, env)
        try:
            a = running.start_controller("a", port_a)
            assert wait_for("controller a leading", lambda: role(a) == "leader", timeout=20)
            b = running.start_controller("b", port_b)
            assert wait_for("controller b following", lambda: role(b) == "follower", timeout=20)
            for device in CLUSTERS:
                running.start_agent(
                    AgentBundle(
                        device_id=device,
                        mqtt_url=broker.url,
                        mqtt_password=passwords[device],
                        public_keys=(keys.public_key_b64,),
                        backend="file",
                        output_dir="played",
                        state_dir="state",
                        cache_dir="cache",
                        heartbeat_interval_s=HEARTBEAT_S,
                    )
                )
            yield running, window
        finally:
            running.stop()
            for name in running.controllers:  # shown by pytest when the test failed
                print(f"----- controller {name} log (tail) -----\n{running.log(name)[-6000:]}")


def test_the_follower_takes_over_when_the_leader_is_killed_and_nothing_is_lost_or_played_twice(
    cluster: tuple[Cluster, Window],
) -> None:
    running, window = cluster
    leader, follower = running.apis["a"], running.apis["b"]

    def online() -> bool:
        _, body = follower.call("GET", "/devices", user="admin")
        states = {d["id"]: d["online"] for d in body["items"]}
        return all(states.get(device) for device in CLUSTERS)

    wait_for("agents online", online, timeout=20)

    # Written and approved on the follower: it renders, then asks the leader (NOTIFY) to plan.
    status, created = follower.call(
        "POST",
        "/bulletins",
        {"title": "Cắt điện", "text": TEXT, "priority": "normal", "targets": {"clusters": CLUSTERS}},
        user="operator",
    )
    assert status == 201, created
    bulletin_id = created["id"]
    assert (
        follower.call("POST", f"/bulletins/{bulletin_id}/submit", user="operator")[1]["status"] == "pending"
    )
    assert (
        follower.call("POST", f"/bulletins/{bulletin_id}/approve", user="approver")[1]["status"] == "approved"
    )

    def sha256() -> str | None:
        _, body = follower.call("GET", f"/bulletins/{bulletin_id}", user="operator")
        audio = body["audio"]
        return (audio[0] if isinstance(audio, list) else audio or {}).get("sha256")

    sha = wait_for("the speech rendered", sha256, timeout=20)
    homes = {device: running.root / "agents" / device for device in CLUSTERS}
    wait_for(
        "the plan and audio on every agent (published by the leader)",
        lambda: all(asset_path(home / "cache", sha).exists() for home in homes.values()),
        timeout=20,
    )
    assert "this process is now the scheduler leader" in running.log("a")
    assert "this process is now the scheduler leader" not in running.log("b")

    # kill -9: no clean shutdown; the database drops the dead session's lock, the broker its subscription.
    killed_at = datetime.now(UTC)
    assert killed_at < window.start, f"set-up too slow: the window opened at {window.start}, before the kill"
    running.controllers["a"].kill()
    running.controllers["a"].wait()
    assert health(leader) is None
    wait_for("controller b leading", lambda: role(follower) == "leader", timeout=TAKEOVER_S)
    assert "this process is now the scheduler leader" in running.log("b")
    # systemd restarts the killed process (Restart=always) with the same settings, so the same MQTT client
    # id: the broker hands it what it kept for its session (shared-subscription messages routed to it while
    # it was dead), and it finds a leader and follows.
    restarted = running.start_controller("a", running.ports["a"])
    wait_for("controller a back, following", lambda: role(restarted) == "follower", timeout=20)

    def finished() -> list[dict[str, Any]] | None:
        _, body = follower.call("GET", f"/plays?bulletin={bulletin_id}", user="operator")
        done = [p for p in body["items"] if p["status"] == "finished"]
        return body["items"] if len(done) == len(CLUSTERS) else None

    until_end = (window.end - datetime.now(UTC)).total_seconds() + 10
    played = wait_for("a finished play on every agent, ingested", finished, timeout=until_end)

    # Exactly once per agent, inside the window, every event sent after the leader died.
    assert sorted(p["device"] for p in played) == CLUSTERS, played
    for play in played:
        started, ended = parse_utc(str(play["started_at"])), parse_utc(str(play["finished_at"]))
        assert killed_at < window.start <= started < ended <= window.end, play
    for device, home in homes.items():
        lines = sink_log(home)
        assert len(lines) == 1 and lines[0]["completed"], (device, lines)
        assert window.start <= parse_utc(lines[0]["started_at"]) <= window.end, (device, lines)
    _, bulletin = follower.call("GET", f"/bulletins/{bulletin_id}", user="operator")
    assert {d["device"]: d["state"] for d in bulletin["deliveries"]} == dict.fromkeys(CLUSTERS, "played")
    report = health(follower)
    assert report is not None and report["role"] == "leader" and report["mqtt"] == "connected", report


MARKER = "marker"  # what the spy sees for its own body-less message


class CommandSpy:
    """Every command the broker routes to one device, read with the controller's account."""

    def __init__(self, broker: BrokerFixture, device_id: str) -> None:
        self.topic = topics.device_topic(device_id, "cmd")
        self.commands: list[str] = []
        self._markers = 0
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="failover-spy", transport="unix")
        self._client.username_pw_set(broker.CONTROLLER, broker.passwords[broker.CONTROLLER])
        self._client.on_connect = lambda c, *_: c.subscribe(self.topic, qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = lambda _c, _u, message: self.commands.append(
            json.loads(message.payload).get("body", {}).get("command", MARKER)
        )
        self._client.connect(broker.controller_url.removeprefix("unix://"), 1)  # paho ignores the port
        self._client.loop_start()
        assert self._subscribed.wait(10)

    def settled(self) -> list[str]:
        """The commands so far: once our own marker arrives, everything routed before it has too."""
        self._markers += 1
        self._client.publish(self.topic, b"{}", qos=1).wait_for_publish(10)
        wait_for("the spy's marker", lambda: self.commands.count(MARKER) >= self._markers, timeout=10)
        return [command for command in self.commands if command != MARKER]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@dataclass
class InProcess:
    """A seeded PostgreSQL database and a way to start controllers on it in this process."""

    db_url: str
    make: Callable[[], Controller]


@pytest.fixture
def in_process(tmp_path: Path, postgres_url: str, broker: BrokerFixture) -> Iterator[InProcess]:
    """Controllers in this process (to look inside them), sharing one database, broker and data dir."""
    with postgres_database(postgres_url) as db_url:
        upgrade(db_url)
        database = Database(db_url)
        with database.session() as session:
            services.seed_demo(session, datetime.now(UTC), DEMO_PASSWORD)
        database.dispose()
        window = write_window(tmp_path, opens_in_s=300, length_s=60)  # nothing here waits for it

        def make() -> Controller:
            settings = load_settings(
                {},
                database_url=db_url,
                data_dir=tmp_path / "controller",
                schedule=window.path,
                http__port=free_port(),
                mqtt__mode="external",
                stream__mode="off",
                mqtt__url=broker.controller_url,
                mqtt__username=broker.CONTROLLER,
                mqtt__password=broker.passwords[broker.CONTROLLER],
                tts__engines=("espeak-ng",),
                leader__retry_s=0.5,
                leader__check_s=0.5,
            )
            return Controller(settings, rules=RULES)

        yield InProcess(db_url, make)


def approve(api: Api, text: str, priority: str, targets: list[str]) -> int:
    """Write, submit and approve a bulletin over REST; returns its id."""
    status, created = api.call(
        "POST",
        "/bulletins",
        {"title": text[:30], "text": text, "priority": priority, "targets": {"clusters": targets}},
        user="operator",
    )
    assert status == 201, created
    assert api.call("POST", f"/bulletins/{created['id']}/submit", user="operator")[1]["status"] == "pending"
    assert api.call("POST", f"/bulletins/{created['id']}/approve", user="approver")[1]["status"] == "approved"
    return int(created["id"])


def test_a_new_leader_does_not_send_again_an_emergency_the_old_leader_sent(
    in_process: InProcess, broker: BrokerFixture
) -> None:
    spy = CommandSpy(broker, CLUSTERS[0])
    first = in_process.make()
    first.start()
    try:
        assert first.leadership.role == "leader"
        api = Api(f"http://127.0.0.1:{first.web.port}")
        approve(api, "Khẩn cấp: nguy cơ lũ quét, bà con tránh xa suối.", "emergency", [CLUSTERS[0]])
        sent = wait_for("play_now sent by the first leader", lambda: spy.settled() or None, timeout=60)
        assert sent == ["play_now"]
    finally:
        first.stop()

    second = in_process.make()  # the first released the lock on stop: this one is elected at start
    second.start()
    try:
        assert second.leadership.role == "leader"
        # The election queued a planning run and a re-publish; one more run queued behind them ends after.
        queued = wait_for("a planning run queued", second.request_replan, timeout=10)
        queued.result(timeout=60)
        assert spy.settled() == ["play_now"]  # the delivery row recorded the send: nothing went twice
    finally:
        second.stop()
        spy.close()


def test_a_leader_that_loses_its_lock_connection_stops_planning_and_asks_the_new_leader(
    in_process: InProcess,
) -> None:
    controller = in_process.make()
    controller.start()
    requested = threading.Event()
    # The other process, reduced to its leadership: it takes over and hears the demoted one's requests.
    other = PostgresLeadership(in_process.db_url, retry_s=0.2, check_s=0.2, on_replan_requested=requested.set)
    try:
        assert controller.health()["role"] == "leader"
        other.start()
        assert other.role == "follower"

        lock = controller.leadership
        assert isinstance(lock, PostgresLeadership) and lock._conn is not None
        with psycopg.connect(in_process.db_url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (lock._conn.info.backend_pid,))
        wait_for("the controller demoted", lambda: controller.health()["role"] == "follower", timeout=10)
        wait_for("the other process leading", lambda: other.role == "leader", timeout=10)
        assert controller.jobs.state == STATE_PAUSED

        # A change on the demoted process: it renders, then asks the leader instead of planning itself.
        with controller.db.session() as session:
            before = {d: services.current_plan(session, d) for d in CLUSTERS}
        api = Api(f"http://127.0.0.1:{controller.web.port}")
        approve(api, "Họp dân bản Lìm lúc 19 giờ tối nay.", "normal", CLUSTERS)
        assert requested.wait(30)
        assert controller.request_replan() is None
        with controller.db.session() as session:
            assert {d: services.current_plan(session, d) for d in CLUSTERS} == before

        # Fencing: a planning run still under way when leadership went gets no database session.
        with controller._fence.planning(), pytest.raises(LeadershipLost):
            controller.dispatcher.replan()
    finally:
        other.stop()
        controller.stop()
