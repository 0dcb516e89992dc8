"""The agent reaches a TLS broker with an mqtts:// URL and the CA certificate named in its bundle.

The broker's TLS listener and certificates are the controller's (controller/tls.py, issue 7).
"""

from datetime import UTC, datetime
from pathlib import Path

from controller.mqtt.accounts import BrokerAccount, hash_password
from controller.mqtt.broker import ManagedBroker, TlsListener
from controller.tls import TlsFiles, generate
from edge_agent.agent import Agent
from tests.edge_agent.support import DEVICE, DEVICE_PASSWORD, Keys, running_agent, wait_until, write_config
from tests.support.services import BrokerFixture, free_port


def test_agent_connects_over_tls_with_its_ca(tmp_path: Path, broker: BrokerFixture, keys: Keys) -> None:
    files = TlsFiles(tmp_path / "tls")
    generate(files, ["127.0.0.1", "localhost"], datetime.now(UTC))
    listener = TlsListener(free_port(), files, "127.0.0.1")
    tls_broker = ManagedBroker(tmp_path / "tls-broker", port=free_port(), tls=listener)
    tls_broker.start([BrokerAccount(DEVICE, hash_password(DEVICE_PASSWORD), "device")])
    try:
        url = f"mqtts://127.0.0.1:{listener.port}"
        config = write_config(
            tmp_path, broker, [keys.public_b64], mqtt_extra=f'ca_file = "{files.ca_cert}"', url=url
        )
        assert config.mqtt.tls and config.mqtt.port == listener.port
        with running_agent(Agent(config)) as agent:
            wait_until(lambda: agent.connected, what="a TLS connection verified with the CA")
    finally:
        tls_broker.stop()
