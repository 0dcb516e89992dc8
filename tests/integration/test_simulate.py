"""`loaxa simulate --agents N`: N real agents, provisioned through the REST API of a running controller.

More agents than one process can hold (paho's select() limit) run in several fleet processes; each agent
still has its own MQTT connection, credentials and state. Ctrl+C (SIGTERM) takes them all offline.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import DEMO_PASSWORD, Deployment, wait_for

pytestmark = pytest.mark.slow

# Two fleet processes. The split is the same code at any size; 6 per process instead of the real 100
# keeps the test from starving the browser tests that run beside it.
PER_PROCESS = 6
CLI = (sys.executable, "-m", "loaxa.cli")
AGENTS = PER_PROCESS + 4


def simulated(deployment: Deployment) -> dict[str, bool]:
    """The simulated devices the controller knows, and whether each is online."""
    status, body = deployment.api.call("GET", "/devices", user="admin")
    assert status == 200, body
    return {d["id"]: d["online"] for d in body["items"] if d["id"].startswith("sim-")}


def test_simulate_runs_agents_in_several_processes_and_stops_them(
    deployment: Deployment, tmp_path: Path
) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("LOAXA_")}
    env |= {
        "LOAXA_URL": f"http://127.0.0.1:{deployment.controller.web.port}",
        "LOAXA_ADMIN_PASSWORD": DEMO_PASSWORD,
        "LOAXA_DATA_DIR": str(tmp_path / "simulate"),
        "LOAXA_MQTT_HEARTBEAT_INTERVAL_S": "5",
    }
    with (tmp_path / "simulate.log").open("wb") as log:
        simulate = subprocess.Popen(
            [*CLI, "simulate", "--agents", str(AGENTS), "--per-process", str(PER_PROCESS)],
            env=env,
            stderr=log,
        )
    try:
        wait_for(
            f"{AGENTS} simulated agents online",
            lambda: len(states := simulated(deployment)) == AGENTS and all(states.values()),
            timeout=90,
        )
        output = (tmp_path / "simulate.log").read_text()
        assert f"đã cấp {AGENTS}/{AGENTS} cụm loa" in output
        assert f"đã chạy {AGENTS}/{AGENTS} cụm loa" in output
        assert f"trong 2 tiến trình (tối đa {PER_PROCESS} mỗi nơi)" in output
        homes = list((tmp_path / "simulate" / "simulate").iterdir())
        assert len(homes) == AGENTS, "each agent has a home of its own (config, state, cache)"
    finally:
        simulate.send_signal(signal.SIGTERM)
        simulate.wait(60)
    assert simulate.returncode == 0
    wait_for("every simulated agent offline", lambda: not any(simulated(deployment).values()), timeout=30)
