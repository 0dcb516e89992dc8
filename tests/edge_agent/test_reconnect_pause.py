"""After a lost connection the agent pauses a random time (at most `mqtt.reconnect_max_s`) before its
first reconnection attempt, so the agents a broker restart dropped together do not all come back in the
same second; the first connection and a clean stop do not pause."""

import threading
from pathlib import Path

from edge_agent.clock import SystemClock
from edge_agent.mqtt import Link
from tests.edge_agent.support import Keys, wait_until, write_config
from tests.support.services import BrokerFixture


class RecordingClock(SystemClock):
    """The real clock, noting every wait the link makes."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def wait(self, event: threading.Event, timeout: float) -> bool:
        self.waits.append(timeout)
        return super().wait(event, timeout)


def test_a_dropped_link_pauses_once_before_reconnecting(
    tmp_path: Path, device_broker: BrokerFixture, keys: Keys
) -> None:
    config = write_config(tmp_path, device_broker, [keys.public_b64])
    clock = RecordingClock()
    bdseq = iter(range(1, 100))
    link = Link(
        config,
        clock,
        boot_id="b",
        version="test",
        next_bdseq=lambda: next(bdseq),
        on_message=lambda _channel, _payload: None,
        on_change=lambda: None,
    )
    link.start()
    try:
        wait_until(lambda: link.connected, what="the first connection")
        assert clock.waits == [], "the first connection does not pause"
        device_broker.stop()
        wait_until(lambda: not link.connected, what="the link to see the broker gone")
        device_broker.start()
        wait_until(lambda: link.connected, what="the reconnection", timeout=15)
        assert len(clock.waits) == 1
        assert 0.0 <= clock.waits[0] <= config.mqtt.reconnect_max_s
    finally:
        link.stop()
    assert len(clock.waits) == 1, "a clean stop does not pause"
