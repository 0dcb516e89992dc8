"""A province set-up on real parts (issue 8): an operator's mosquitto, a commune relay bridged to it.

The controller runs in external mode against a plain mosquitto whose password file and ACL come from
`loaxa broker accounts`; one agent connects to it directly, another through a commune relay broker (files
from `loaxa broker accounts --relay`) whose bridge reaches the province through a TCP link the test can
cut. A bulletin approved over REST while the link is down reaches the relayed agent once it is back; the
agent then plays with the link down again, and its events reach the controller when the link returns.
"""

import getpass
import json
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller import services
from controller.config import load_settings
from loaxa.cli import main as loaxa
from loaxa.runtime import Controller
from protocol.timefmt import parse_utc
from tests.integration.conftest import (
    DEMO_PASSWORD,
    HEARTBEAT_S,
    RULES,
    Api,
    Deployment,
    wait_for,
    write_window,
)
from tests.support.services import free_port
from tests.support.timing import seconds_until

DIRECT, RELAYED = "tule-c01", "tule-c02"
CONTROLLER_PASSWORD = "province-controller-secret"


class Link:
    """The WAN between a commune relay and the province broker: a TCP forwarder that can be cut."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self._target = target_port
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        """Accept connections again (the relay's bridge reconnects on its own)."""
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Drop every connection and refuse new ones, as a dead 4G or fibre link would."""
        if self._listener is not None:
            # shutdown() first: close() alone leaves a socket that another thread waits on in accept()
            # listening in the kernel.
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                inside, _ = listener.accept()
            except OSError:
                return
            outside = socket.create_connection(("127.0.0.1", self._target))
            with self._lock:
                self._sockets += [inside, outside]
            threading.Thread(target=self._pump, args=(inside, outside), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            a.close()
            b.close()


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mosquitto exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"mosquitto did not listen on {port}")


@contextmanager
def mosquitto(conf: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Run `mosquitto -c conf` until the block ends."""
    log = conf.with_suffix(".log")
    with log.open("ab") as out:
        process = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process, log)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def operator_conf(directory: Path, port: int) -> Path:
    """A province mosquitto.conf as docs/province.md tells an operator to write it."""
    conf = directory / "mosquitto.conf"
    (directory / "data").mkdir(exist_ok=True)
    conf.write_text(
        "\n".join(
            [
                "per_listener_settings false",
                "allow_anonymous false",
                f"password_file {directory / 'passwd'}",
                f"acl_file {directory / 'acl'}",
                f"listener {port} 127.0.0.1",
                f"user {getpass.getuser()}",
                "persistence true",
                f"persistence_location {directory / 'data'}/",
                "max_queued_messages 10000",
                "log_dest stderr",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return conf


def _local_plays(home: Path) -> list[dict[str, Any]]:
    path = home / "played" / "plays.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_province_controller_on_an_external_broker_reaches_agents_through_a_commune_relay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = write_window(tmp_path, opens_in_s=25, length_s=40)
    province_dir, relay_dir = tmp_path / "province", tmp_path / "relay"
    province_dir.mkdir()
    province_port = free_port()
    env = {
        "LOAXA_DATA_DIR": str(tmp_path / "controller"),
        "LOAXA_SCHEDULE": str(window.path),
        "LOAXA_PORT": str(free_port()),
        "LOAXA_MQTT_MODE": "external",
        "LOAXA_MQTT_URL": f"mqtt://127.0.0.1:{province_port}",
        "LOAXA_MQTT_USERNAME": "province-controller",
        "LOAXA_MQTT_PASSWORD": CONTROLLER_PASSWORD,
        "LOAXA_MQTT_HEARTBEAT_INTERVAL_S": str(HEARTBEAT_S),
        "LOAXA_TTS_ENGINES": "espeak-ng",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    controller = Controller(load_settings(env), rules=RULES)
    assert controller.broker is None, "external mode must not start a broker of its own"
    with controller.db.session() as session:
        passwords = services.seed_demo(session, datetime.now(UTC), DEMO_PASSWORD)

    # The province operator writes the accounts of the registry, with the relay account of Tú Lệ.
    assert loaxa(["broker", "accounts", "--out", str(province_dir), "--bridge", "tule"]) == 0
    relay_password = (province_dir / "bridge-tule.password").read_text(encoding="utf-8").strip()
    with mosquitto(operator_conf(province_dir, province_port), province_port):
        link = Link(province_port)
        relay_port = free_port()
        monkeypatch.setenv("LOAXA_MQTT_URL", f"mqtt://127.0.0.1:{relay_port}")
        monkeypatch.setenv("LOAXA_MQTT_BRIDGE_URL", f"mqtt://127.0.0.1:{link.port}")
        monkeypatch.setenv("LOAXA_MQTT_BRIDGE_USERNAME", "bridge-tule")
        monkeypatch.setenv("LOAXA_MQTT_BRIDGE_PASSWORD", relay_password)
        monkeypatch.setenv("LOAXA_MQTT_BRIDGE_RETRY_MAX_S", "2")
        assert loaxa(["broker", "accounts", "--out", str(relay_dir), "--relay", "tule"]) == 0
        with mosquitto(relay_dir / "mosquitto.conf", relay_port):
            controller.start()
            deployment = Deployment(
                controller, Api(f"http://127.0.0.1:{controller.web.port}"), window, tmp_path, passwords
            )
            try:
                _play_through_the_relay(deployment, link, relay_port)
            finally:
                deployment.stop()
                link.cut()


def _play_through_the_relay(deployment: Deployment, link: Link, relay_port: int) -> None:
    api = deployment.api
    deployment.start_agent(DIRECT)
    relayed_home = deployment.start_agent(RELAYED, f"mqtt://127.0.0.1:{relay_port}")
    # The relayed agent's birth and heartbeats cross the bridge (out).
    wait_for("both agents online", lambda: all(deployment.device(d)["online"] for d in (DIRECT, RELAYED)), 20)

    link.cut()
    status, created = api.call(
        "POST",
        "/bulletins",
        {
            "title": "Lịch tiêm chủng",
            "text": "Trạm y tế xã Tú Lệ tiêm chủng cho trẻ em vào sáng thứ Bảy.",
            "priority": "normal",
            "targets": {"clusters": [DIRECT, RELAYED]},
        },
        user="operator",
    )
    assert status == 201, created
    bulletin_id = created["id"]
    assert api.call("POST", f"/bulletins/{bulletin_id}/submit", user="operator")[1]["status"] == "pending"
    assert api.call("POST", f"/bulletins/{bulletin_id}/approve", user="approver")[1]["status"] == "approved"

    def sha256() -> str | None:
        _, body = api.call("GET", f"/bulletins/{bulletin_id}", user="operator")
        audio = body.get("audio")
        return (audio[0] if isinstance(audio, list) else audio or {}).get("sha256")

    asset = wait_for("the bulletin rendered", sha256, 20)
    wait_for(
        "the direct agent has the audio",
        (deployment.root / "agents" / DIRECT / "cache" / f"{asset}.mp3").exists,
        15,
    )
    assert not (relayed_home / "cache" / f"{asset}.mp3").exists(), "the plan crossed a cut link"

    # The plan waited at the province (retained, and queued for the relay's persistent session).
    link.restore()
    wait_for("the relayed agent has the audio", (relayed_home / "cache" / f"{asset}.mp3").exists, 15)

    # The relayed agent plays with the link down; its events wait in the relay.
    link.cut()
    assert datetime.now(UTC) < deployment.window.start, "set-up took longer than the window's lead time"
    wait_for(
        "the relayed agent played offline",
        lambda: any(p["completed"] for p in _local_plays(relayed_home)),
        seconds_until(deployment.window.end),
    )

    def played_on(device: str) -> bool:
        _, body = api.call("GET", f"/plays?bulletin={bulletin_id}&device={device}", user="operator")
        return any(p["status"] == "finished" for p in body["items"])

    wait_for(
        "the direct agent's play recorded", lambda: played_on(DIRECT), seconds_until(deployment.window.end)
    )
    assert not played_on(RELAYED), "events crossed a cut link"
    link.restore()
    wait_for("the relayed agent's play recorded once the link is back", lambda: played_on(RELAYED), 15)
    for play in _local_plays(relayed_home):
        started = parse_utc(play["started_at"])
        assert deployment.window.start <= started <= deployment.window.end, play
