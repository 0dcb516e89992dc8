"""The demo's simulated agents run one per process (issue 20 item 6): a crashing agent (a Bus error when
its state file is cut short under it) takes neither the controller's process nor the other agents along.
"""

import base64
import signal
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from loaxa.demo import demo_fleet
from loaxa.fleet import simulated_bundle, write_simulated_agent
from tests.support.services import BrokerFixture

DEVICES = ("tule-c01", "tule-c02")
KEYS = (base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode(),)


def test_a_crashing_demo_agent_takes_no_other_process_along(broker: BrokerFixture, tmp_path: Path) -> None:
    for device in DEVICES:
        broker.add(device, f"secret-{device}")
        write_simulated_agent(tmp_path, simulated_bundle(device, f"secret-{device}", broker.url, KEYS, 1))
    fleet = demo_fleet([tmp_path / device / "agent.toml" for device in DEVICES])
    fleet.start()
    try:
        crashing, other = fleet.processes
        crashing.send_signal(signal.SIGBUS)
        assert crashing.wait(10) == -signal.SIGBUS
        time.sleep(1)  # long enough for a shared process to have gone down with it
        assert other.poll() is None, "the other agent died with the crashing one"
    finally:
        fleet.stop()
