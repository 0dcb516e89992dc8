"""The agent bounds how fast it publishes events (issue 20, item 5): time is an input, never a wait.

mosquitto has no per-client rate limit, so one device's burst could fill the controller's queue ahead of
the other devices' events; each agent sends at most `events_per_s` on average, in bursts of at most the
in-flight window.
"""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge_agent.config import parse_config
from edge_agent.outbox import WINDOW, Outbox
from edge_agent.ratelimit import TokenBucket
from edge_agent.state import State

T = datetime(2026, 3, 2, 10, tzinfo=UTC)


class SteppedClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.mono = 0.0

    def now(self) -> datetime:
        return T + timedelta(seconds=self.mono)

    def monotonic(self) -> float:
        return self.mono

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.is_set()


class AckingLink:
    """The outbox's EventPublisher port: records payloads and the broker acknowledges each at once."""

    connected = True

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def publish_event(self, payload: bytes) -> mqtt.MQTTMessageInfo:
        self.sent.append(payload)
        info = mqtt.MQTTMessageInfo(len(self.sent))
        info.rc = mqtt.MQTT_ERR_SUCCESS
        info._set_as_published()
        return info


def test_a_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=50, burst=50)
    assert bucket.available(100.0) == 50
    bucket.take(50)
    assert bucket.available(100.0) == 0
    assert bucket.available(100.1) == 5
    bucket.take(5)
    assert bucket.available(99.0) == 0, "a clock stepping back gives nothing"
    assert bucket.available(1000.0) == 50, "a long pause refills up to the burst, not beyond"


def test_the_outbox_publishes_at_most_the_configured_rate(tmp_path: Path) -> None:
    state = State(tmp_path / "agent.sqlite3")
    link, clock = AckingLink(), SteppedClock()
    outbox = Outbox(state, link, clock, "boot", events_per_s=10)
    for _ in range(200):
        outbox.emit("failed", reason="test")
    for _ in range(5):  # the agent's loop flushes often; acknowledged events free the window at once
        outbox.flush()
    assert len(link.sent) == WINDOW, "a burst of one in-flight window"
    clock.mono += 1.0
    outbox.flush()
    outbox.flush()
    assert len(link.sent) == WINDOW + 10
    clock.mono += 0.5
    outbox.flush()
    assert len(link.sent) == WINDOW + 15
    state.close()


def test_the_rate_is_read_from_agent_toml(tmp_path: Path) -> None:
    base = {
        "device_id": "tule-c01",
        "mqtt": {"url": "mqtt://127.0.0.1:1883", "password": "x"},
        "controller": {"public_keys": ["11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="]},
        "paths": {"state_dir": "s", "cache_dir": "c"},
        "player": {"backend": "file", "output_dir": "p"},
    }
    assert parse_config(base, tmp_path).events_per_s == 50
    assert parse_config(base | {"events_per_s": 5}, tmp_path).events_per_s == 5
    with pytest.raises(ValueError, match="events_per_s"):
        parse_config(base | {"events_per_s": 0}, tmp_path)
