"""The application-level liveness check: when paho's network thread stops reconnecting (a known paho
failure), the agent exits with code 3 so systemd restarts it; while paho keeps trying, it does not."""

import threading
from pathlib import Path

from edge_agent.agent import EXIT_MQTT_STUCK, Agent
from tests.edge_agent.support import Keys, wait_until, write_config
from tests.support.services import BrokerFixture


def test_agent_exits_when_paho_stops_reconnecting(
    tmp_path: Path, device_broker: BrokerFixture, keys: Keys
) -> None:
    config = write_config(tmp_path, device_broker, [keys.public_b64], mqtt_extra="liveness_s = 3")
    agent = Agent(config)
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: agent.connected, what="the first connection")
        device_broker.stop()
        wait_until(lambda: not agent.connected, what="the agent to see the broker gone")
        device_broker.start()
        wait_until(lambda: agent.connected, what="paho to reconnect by itself", timeout=15)
        assert thread.is_alive(), "a reconnecting client is alive: no restart"
        device_broker.stop()
        wait_until(lambda: not agent.connected, what="the second outage")
        # The failure itself: paho's network thread is gone and nothing makes connection attempts any more.
        agent._link._client.loop_stop()  # private: the only way to stop paho for real
        thread.join(20)
        assert not thread.is_alive(), "the agent did not exit"
        assert agent.exit_code == EXIT_MQTT_STUCK
    finally:
        agent.stop()
        thread.join(10)
