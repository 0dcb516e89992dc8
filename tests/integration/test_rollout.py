"""An over-the-air rollout run by the controller, with real agents on the managed broker (issue 17).

The version rolled out is the one the agents already run (the package is published in the controller's apt
repository, but nothing is installed here; tests/integration/test_deb_update.py installs in a Debian root):
what this checks is the controller's half — the signed `update` reaches each wave's agents, which write
the request for their root-side helper; the job then asks for a test tone, the agents play it and report
it, and only then does the next wave start. A wave that is not healthy by its deadline stops the rollout
and raises an alert until an admin cancels it.
"""

from datetime import timedelta
from importlib import metadata
from pathlib import Path

import pytest

from controller.rollout_job import RolloutJob
from controller.services import rollouts
from controller.services.rollouts import RolloutView
from loaxa.cli import main as loaxa
from loaxa.packaging import build_agent
from tests.integration.conftest import Deployment, deployed, wait_for

pytestmark = pytest.mark.slow

AGENTS = ("tule-c01", "tule-c02", "tule-c03")  # the canary and the 10 % wave (two of the other eleven)


def _newest(deployment: Deployment) -> RolloutView:
    with deployment.controller.db.session() as session:
        return rollouts.recent_rollouts(session, limit=1)[0]


def _online_with_version(deployment: Deployment, version: str) -> bool:
    with deployment.controller.db.session() as session:
        health = rollouts.fleet_health(session)
    return all(health[d].online and health[d].agent_version == version for d in AGENTS)


def test_a_rollout_goes_wave_by_wave_and_a_late_wave_stops_it_with_an_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = metadata.version("loaxa")  # what the agents report: the rollout's target here
    deb = build_agent(version, tmp_path / "dist")
    with deployed(tmp_path, opens_in_s=3600, length_s=60) as deployment:
        controller, api = deployment.controller, deployment.api
        monkeypatch.setenv("LOAXA_DATA_DIR", str(controller.settings.data_dir))
        homes = {device: deployment.start_agent(device) for device in AGENTS}

        # Only a version in the controller's apt repository can be rolled out, and only by an admin.
        body = {"version": version, "canary": ["tule-c01"], "share_percent": 10, "deadline_min": 5}
        status, answer = api.call("POST", "/updates", body, user="admin")
        assert (status, answer["error"]["code"]) == (422, "package_not_published"), answer
        assert "loaxa apt publish" in answer["error"]["message"]
        assert loaxa(["apt", "publish", str(deb)]) == 0
        status, answer = api.call("POST", "/updates", body, user="operator")
        assert (status, answer["error"]["code"]) == (403, "forbidden")
        status, answer = api.call("POST", "/updates", {**body, "canary": ["tule-c99"]}, user="admin")
        assert (status, answer["error"]["code"]) == (422, "bad_rollout"), answer

        wait_for("the agents online", lambda: _online_with_version(deployment, version), 30)
        status, started = api.call("POST", "/updates", body, user="admin")
        assert status == 201, started
        assert [w["devices"] for w in started["waves"]][:2] == [["tule-c01"], ["tule-c02", "tule-c03"]]
        status, again = api.call("POST", "/updates", body, user="admin")
        assert (status, again["error"]["code"]) == (409, "rollout_running")

        # The leader's job sends the canary its update; the agent verifies it and asks its root-side helper;
        # it then plays the test tone the job asks for, and only then does the next wave get the update.
        def at_wave(index: int) -> RolloutView | None:
            view = _newest(deployment)
            return view if view.wave >= index else None

        wait_for("the second wave", lambda: at_wave(1), 60)
        sha256 = started["sha256"]
        request = (homes["tule-c01"] / "state/update-request").read_text()
        assert request == f"{version} {sha256}\n"
        assert (homes["tule-c01"] / "state/health-ok").read_text() == f"{version}\n"

        third = wait_for("the third wave", lambda: at_wave(2), 60)
        assert third.outcomes["tule-c02"] == third.outcomes["tule-c03"] == "healthy"
        assert (homes["tule-c03"] / "state/update-request").read_text() == request
        assert third.state == "running"
        last = "tule-c12"
        wait_for("the third wave's update sent", lambda: _newest(deployment).outcomes[last] == "sent", 30)

        # The third wave's clusters have no agent running: past its deadline the rollout stops.
        later = controller.clock() + timedelta(minutes=6)
        failed = RolloutJob(controller.db, controller.dispatcher.send_command, lambda: later).tick()
        assert failed is not None and failed.state == "failed"
        assert sorted(d for d, o in failed.outcomes.items() if o == "failed") == [
            f"tule-c{n:02}" for n in range(4, 13)
        ]
        assert controller.rollouts.tick() is None  # nothing runs any more
        controller.monitoring.check_alerts()
        alert = controller.monitoring.alerts.firing[f"rollout_failed:{failed.id}"]
        assert "tule-c04" in alert.text and "loaxa update cancel" in alert.text

        status, overview = api.call("GET", "/updates", user="approver")
        assert status == 200
        assert overview["versions"] == {"unknown": 9, version: 3}
        waves = overview["rollouts"][0]["waves"]
        assert [(w["healthy"], w["failed"], w["status"]) for w in waves] == [
            (1, 0, "done"),
            (2, 0, "done"),
            (0, 9, "failed"),
        ]
        status, cancelled = api.call("POST", f"/updates/{failed.id}/cancel", user="admin")
        assert (status, cancelled["state"]) == (200, "cancelled")
        status, answer = api.call("POST", f"/updates/{failed.id}/cancel", user="admin")
        assert (status, answer["error"]["code"]) == (409, "rollout_not_running")
        assert api.call("POST", "/updates/999/cancel", user="admin")[0] == 404
        controller.monitoring.check_alerts()
        assert not any(key.startswith("rollout_failed") for key in controller.monitoring.alerts.firing)
        assert _newest(deployment).state == "cancelled"
