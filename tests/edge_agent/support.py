"""Edge agent test helpers: signed plans, a controller-side MQTT client, a Range-capable asset server."""

import hashlib
import http.server
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.agent import Agent
from edge_agent.config import AgentConfig, load_config
from protocol import Asset, PlanBody, PlanItem, Signer, WindowSpec, topics
from protocol.signing import public_key_b64
from tests.support.services import BrokerFixture

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEVICE = "tule-c01"
DEVICE_PASSWORD = "device-secret"


def now_utc() -> datetime:
    return datetime.now(UTC)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll a condition until it holds (these tests wait on outcomes, never sleep a fixed time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass(frozen=True)
class Audio:
    path: Path
    sha256: str
    size: int
    duration_ms: int


def random_audio(path: Path, size: int, duration_ms: int) -> Audio:
    """Random bytes standing in for audio: the file sink copies files and waits `duration_ms`."""
    data = os.urandom(size)
    path.write_bytes(data)
    return Audio(path, hashlib.sha256(data).hexdigest(), size, duration_ms)


def make_mp3(path: Path, seconds: float, freq: int = 440) -> Audio:
    """A short real MP3 made with ffmpeg, with its true size, hash and duration."""
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=f={freq}:d={seconds}",
            "-ac",
            "1",
            str(path),
        ],
        check=True,
    )
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    data = path.read_bytes()
    return Audio(path, hashlib.sha256(data).hexdigest(), len(data), int(float(probe.stdout) * 1000))


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "AssetServer"

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Range")))
        self.server.connections += 1
        body = self.server.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and self.server.honour_range and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        stall = self.server.stall_after
        if stall is not None and start < stall:
            # Send part of the file, then hang like a dying 3G link until the test releases it.
            self.wfile.write(body[start:stall])
            self.wfile.flush()
            self.server.release.wait(30)
            start = stall
        self.wfile.write(body[start:])

    def log_message(self, format: str, *args: Any) -> None:
        pass


class AssetServer(http.server.ThreadingHTTPServer):
    """Stands in for the controller's asset endpoint; honours `Range: bytes=N-` (http.server does not)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.connections = 0
        self.honour_range = True
        self.stall_after: int | None = None
        self.release = threading.Event()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"

    def add(self, audio: Audio) -> Asset:
        name = f"{audio.sha256}.mp3"
        self.files[name] = audio.path.read_bytes()
        return Asset(audio.sha256, audio.size, audio.duration_ms, self.url(name))


@contextmanager
def asset_server() -> Iterator[AssetServer]:
    server = AssetServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def local_clock(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%H:%M:%S")


def window(name: str, start: datetime, end: datetime) -> WindowSpec:
    """A plan window from two instants; windows are local clock times, so they may not cross midnight."""
    if start.astimezone(TZ).date() != end.astimezone(TZ).date():
        raise ValueError(f"test window {name!r} crosses local midnight: {start} .. {end}")
    return WindowSpec(name, local_clock(start), local_clock(end))


def hours_away(hours: float, length: timedelta) -> datetime:
    """An instant about `hours` from now whose window of `length` stays inside one local day."""
    start = now_utc() + timedelta(hours=hours)
    if start.astimezone(TZ).date() != (start + length).astimezone(TZ).date():
        start += length + timedelta(minutes=1)  # just past local midnight: still hours away
    return start


def wait_past_local_midnight(margin: timedelta) -> None:
    """Tests whose windows reach `margin` either side of now cannot run across midnight: wait it out."""
    now = now_utc()
    if (now - margin).astimezone(TZ).date() != (now + margin).astimezone(TZ).date():
        midnight = (now + margin).astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
        time.sleep(((midnight + margin) - now).total_seconds())


def item(
    item_id: str, asset: Asset, planned: datetime, *, priority: str = "normal", repeat: int = 1, **kw: Any
) -> PlanItem:
    return PlanItem(
        item_id=item_id,
        bulletin_id=kw.pop("bulletin_id", 7),
        priority=priority,  # type: ignore[arg-type]
        asset=asset,
        not_before=kw.pop("not_before", planned - timedelta(minutes=5)),
        not_after=kw.pop("not_after", planned + timedelta(minutes=5)),
        planned_start=planned,
        repeat=repeat,
        **kw,
    )


def plan(version: int, windows: list[WindowSpec], items: list[PlanItem]) -> PlanBody:
    return PlanBody(version, now_utc(), "Asia/Ho_Chi_Minh", tuple(windows), tuple(items))


@dataclass
class Keys:
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def signer(self) -> Signer:
        return Signer(self.key)

    @property
    def public_b64(self) -> str:
        return public_key_b64(self.key.public_key())

    def plan(self, seq: int, body: PlanBody, device: str = DEVICE) -> bytes:
        return self.signer.seal(kind="plan", device=device, seq=seq, body=body.to_json(), issued_at=now_utc())

    def cmd(self, seq: int, body: dict[str, Any], device: str = DEVICE) -> bytes:
        return self.signer.seal(kind="cmd", device=device, seq=seq, body=body, issued_at=now_utc())


class Controller:
    """The controller's side of the broker: publishes plans/commands, collects what the device sends."""

    def __init__(self, broker: BrokerFixture) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        # A persistent session, like the real controller's: events published while it reconnects are kept.
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="test-controller", clean_session=False
        )
        self._client.username_pw_set(BrokerFixture.CONTROLLER, "controller-secret")
        self.subscribed = threading.Event()
        self._client.on_message = self._on_message
        self._client.on_connect = lambda client, *_args: client.subscribe(
            [(topics.device_topic(DEVICE, ch), 1) for ch in topics.UPLINK_CHANNELS]
        )
        self._client.on_subscribe = lambda *_args: self.subscribed.set()
        self._client.reconnect_delay_set(1, 1)
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        assert self.subscribed.wait(5), "controller could not subscribe"

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        parsed = topics.parse_device_topic(msg.topic)
        assert parsed is not None
        with self._lock:
            self.messages.append((parsed[1], json.loads(msg.payload)))

    def received(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for ch, body in self.messages if ch == channel]

    def statuses(self, state: str) -> list[dict[str, Any]]:
        return [s for s in self.received("status") if s["state"] == state]

    def unique_events(self) -> list[dict[str, Any]]:
        """Events by seq with duplicates (at-least-once redelivery) removed, in seq order."""
        return sorted({e["seq"]: e for e in self.received("events")}.values(), key=lambda e: e["seq"])

    def events(self, kind: str | None = None, item_id: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.received("events")
            if (kind is None or e["type"] == kind) and (item_id is None or e.get("item_id") == item_id)
        ]

    def wait_event(
        self, kind: str, item_id: str | None = None, count: int = 1, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        return wait_until(
            lambda: (found := self.events(kind, item_id)) and len(found) >= count and found,
            timeout,
            f"{count} {kind} event(s) for {item_id}",
        )

    def publish(self, channel: topics.DeviceChannel, payload: bytes, *, retain: bool = False) -> None:
        self._client.publish(
            topics.device_topic(DEVICE, channel), payload, qos=1, retain=retain
        ).wait_for_publish(5)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def write_config(
    tmp: Path,
    broker: BrokerFixture,
    keys: list[str],
    extra: str = "",
    *,
    mqtt_extra: str = "",
    player_extra: str = "",
    url: str | None = None,
) -> AgentConfig:
    """Write an agent.toml for the file sink and load it through the real config reader."""
    path = tmp / "agent.toml"
    path.write_text(
        f"""
device_id = "{DEVICE}"
heartbeat_interval_s = 1
download_attempts = 2
download_backoff_s = 0.2
{extra}
[mqtt]
url = "{url or broker.url}"
password = "{DEVICE_PASSWORD}"
reconnect_max_s = 1
{mqtt_extra}

[controller]
public_keys = {json.dumps(keys)}

[paths]
state_dir = "state"
cache_dir = "cache"
cache_limit_mb = 50

[player]
backend = "file"
output_dir = "played"
{player_extra}

[clock]
source = "system"  # this machine's kernel may report no NTP sync; test_clock.py covers "ntp"
""",
        encoding="utf-8",
    )
    return load_config(path)


@contextmanager
def running_agent(agent: Agent) -> Iterator[Agent]:
    thread = threading.Thread(target=agent.run, name="agent-under-test", daemon=True)
    thread.start()
    assert agent.started.wait(10)
    try:
        yield agent
    finally:
        agent.stop()
        thread.join(15)
        assert not thread.is_alive(), "agent did not stop"


def plays(output_dir: Path) -> list[dict[str, Any]]:
    log = output_dir / "plays.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def spawn(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `loaxa agent --config ...` as a real process, as the loaxa CLI does (edge_agent.cli.main)."""
    code = "import sys; from edge_agent.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, "--config", str(config)],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=None if env is None else {**os.environ, **env},
    )


def reap(*processes: subprocess.Popen[bytes] | None) -> None:
    """Kill what is still running (a failed test must not leave agents behind)."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.kill()
            process.communicate()


def stop(process: subprocess.Popen[bytes]) -> str:
    """SIGTERM and wait; the agent must exit 0."""
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-2000:]
    return text


def assert_events_once_in_order(controller: Controller) -> list[dict[str, Any]]:
    events = controller.unique_events()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "a gap or a reorder in events"
    return events


def assert_state_intact(state_dir: Path) -> None:
    with sqlite3.connect(state_dir / "agent.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
