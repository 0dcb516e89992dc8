"""A managed mosquitto killed while a window is open comes back at once, and the plays reach the as-run
log (issue 17: before, 12 of 12 agents played and none of their reports arrived).
"""

import os
import signal
from pathlib import Path

from tests.integration.conftest import deployed, wait_for
from tests.integration.test_scheduling import TEXTS, plays, publish, speech_seconds, until_window_end

DEVICES = ["tule-c01", "tule-c02", "tule-c03"]


def test_a_broker_killed_mid_window_restarts_and_the_plays_reach_the_as_run_log(tmp_path: Path) -> None:
    text = TEXTS[2]
    with deployed(tmp_path, opens_in_s=15, length_s=int(speech_seconds(text)) + 20) as deployment:
        api = deployment.api
        for device in DEVICES:
            deployment.start_agent(device)
        bulletin_id = publish(api, text, targets=DEVICES)
        wait_for(
            "every agent playing",
            lambda: len([p for p in plays(api, bulletin_id) if p["status"] == "playing"]) == len(DEVICES),
            timeout=until_window_end(deployment),
        )
        broker = deployment.controller.broker
        assert broker is not None
        os.kill(int(broker.pid_path.read_text()), signal.SIGKILL)

        finished = wait_for(
            "every play finished in the as-run log",
            lambda: (
                sorted(p["device"] for p in plays(api, bulletin_id) if p["status"] == "finished") == DEVICES
            ),
            timeout=until_window_end(deployment),
        )
        assert finished
        status, health = api.call("GET", "/health")
        assert status == 200
        assert health["broker"]["state"] == "running"
        assert health["broker"]["restarts"] == 1
