"""A whole deployment on loopback: the real controller (managed mosquitto, SQLite, web) and real agents."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from controller import services
from controller.bundle import AgentBundle
from controller.config import Settings, load_settings
from controller.planning import PlanningRules
from loaxa.runtime import Controller
from tests.support.services import free_port

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DEMO_PASSWORD = "e2e-password"
HEARTBEAT_S = 1.0
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


@dataclass(frozen=True)
class Window:
    """The test window: opens a few seconds from now, in the commune's time zone."""

    start: datetime
    end: datetime
    path: Path


def write_window(tmp_path: Path, opens_in_s: float, length_s: float) -> Window:
    """Write a schedule whose only window opens `opens_in_s` from now (LOAXA_SCHEDULE in production)."""
    start = (datetime.now(ZONE) + timedelta(seconds=opens_in_s)).replace(microsecond=0)
    end = start + timedelta(seconds=length_s)
    if end.date() != start.date():  # a window may not cross local midnight: wait until it is past
        time.sleep((end - datetime.now(ZONE)).total_seconds() + 1)
        return write_window(tmp_path, opens_in_s, length_s)
    path = tmp_path / "windows.toml"
    path.write_text(
        f'timezone = "{ZONE.key}"\n\n[[window]]\nname = "test"\n'
        f'start = "{start:%H:%M:%S}"\nend = "{end:%H:%M:%S}"\n',
        encoding="utf-8",
    )
    return Window(start.astimezone(UTC), end.astimezone(UTC), path)


@dataclass
class Api:
    """A tiny REST client for the running controller."""

    base: str
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, body: Any = None, user: str | None = None) -> tuple[int, Any]:
        headers = {"content-type": "application/json"}
        if user is not None:
            if user not in self.tokens:
                _, answer = self.call("POST", "/auth/token", {"username": user, "password": DEMO_PASSWORD})
                self.tokens[user] = answer["token"]
            headers["authorization"] = f"Bearer {self.tokens[user]}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}", data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)


@dataclass
class Deployment:
    """The running controller, its API and the agent processes."""

    controller: Controller
    api: Api
    window: Window
    root: Path
    passwords: dict[str, str]
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start_agent(self, device_id: str, mqtt_url: str | None = None) -> Path:
        """Start a real agent process for a seeded device (on the controller's broker unless `mqtt_url`
        names another, such as a commune relay); returns its home directory."""
        home = self.root / "agents" / device_id
        AgentBundle(
            device_id=device_id,
            mqtt_url=mqtt_url or self.controller.settings.mqtt.url,
            mqtt_password=self.passwords[device_id],
            public_keys=(self.controller.keys.public_key_b64,),
            backend="file",
            output_dir="played",
            state_dir="state",
            cache_dir="cache",
            heartbeat_interval_s=HEARTBEAT_S,
        ).write(home / "agent.toml")
        log = (home / "agent.log").open("ab")
        self.agents[device_id] = subprocess.Popen(
            [sys.executable, "-m", "loaxa.cli", "agent", "--config", str(home / "agent.toml")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return home

    def device(self, device_id: str) -> dict[str, Any]:
        status, body = self.api.call("GET", f"/devices/{device_id}", user="admin")
        assert status == 200, body
        return body

    def stop(self) -> None:
        for process in self.agents.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.terminate()
        for process in self.agents.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.controller.stop()


def e2e_settings(tmp_path: Path, window: Window, **overrides: Any) -> Settings:
    return load_settings(
        {},
        data_dir=tmp_path / "controller",
        schedule=window.path,
        http__port=free_port(),
        mqtt__url=f"mqtt://127.0.0.1:{free_port()}",
        mqtt__heartbeat_interval_s=HEARTBEAT_S,
        tts__engines=("espeak-ng",),
        **overrides,
    )


RULES = PlanningRules(lead=timedelta(seconds=2), gap=timedelta(seconds=1))


@contextmanager
def deployed(tmp_path: Path, opens_in_s: float, length_s: float, **settings: Any) -> Iterator[Deployment]:
    """The seeded demo commune whose only window opens `opens_in_s` from now (agents started by tests);
    `settings` override the test settings (e.g. mqtt__ingest_process=True)."""
    window = write_window(tmp_path, opens_in_s, length_s)
    controller = Controller(e2e_settings(tmp_path, window, **settings), rules=RULES)
    with controller.db.session() as session:
        passwords = services.seed_demo(session, datetime.now(UTC), DEMO_PASSWORD)
    controller.start()
    running = Deployment(
        controller, Api(f"http://127.0.0.1:{controller.web.port}"), window, tmp_path, passwords
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """The controller with the seeded demo commune and a window opening in 20 s."""
    with deployed(tmp_path, opens_in_s=20, length_s=45) as running:
        yield running
