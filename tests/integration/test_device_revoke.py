"""Device accounts on the managed broker without a restart: a device added by `loaxa device add` in
another process connects, one moved there is planned for its new village, and a revoked one (from that
process or over REST) is thrown off and refused."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from controller import services
from controller.bundle import AgentBundle
from controller.db.models import Village
from tests.integration.conftest import HEARTBEAT_S, Deployment, wait_for


def _loaxa(deployment: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the `loaxa` command in its own process against the deployment's data directory."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "loaxa.cli",
            "--data-dir",
            str(deployment.controller.settings.data_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _plan_areas(deployment: Deployment, device_id: str) -> list[str]:
    with deployment.controller.db.session() as session:
        plan = services.current_plan(session, device_id)
    return [] if plan is None else list(plan.json.get("areas", []))


def _log(home: Path) -> str:
    return (home / "agent.log").read_text(errors="replace")


def _refused_after(home: Path, mark: int) -> bool:
    """Whether the agent was disconnected and then refused by the broker after `mark` bytes of its log."""
    tail = _log(home)[mark:]
    return "broker refused the connection" in tail and "Not authorized" in tail


@pytest.mark.slow
def test_add_and_revoke_from_another_process_and_revoke_over_rest(deployment: Deployment) -> None:
    # Added by the CLI while the controller runs: the agent connects, no restart.
    added = _loaxa(deployment, "device", "add", "tule-c13", "--name", "Cụm loa chợ", "--village", "ban-lim")
    assert added.returncode == 0, added.stderr
    home = deployment.root / "agents" / "tule-c13"
    # The bundle as printed, made to fit this test: the loopback broker, the file sink and the host clock.
    bundle = added.stdout.replace('backend = "mpg123"', 'backend = "file"\noutput_dir = "played"')
    bundle = bundle.replace("mqtt://127.0.0.1:1883", deployment.controller.settings.mqtt.url)
    bundle = bundle.replace('source = "ntp"', 'source = "system"')
    bundle = bundle.replace("/var/lib/loaxa/state", "state").replace("/var/lib/loaxa/cache", "cache")
    bundle = bundle.replace("heartbeat_interval_s = 30", f"heartbeat_interval_s = {HEARTBEAT_S}")
    home.mkdir(parents=True)
    (home / "agent.toml").write_text(bundle, encoding="utf-8")
    with (home / "agent.log").open("ab") as log:
        deployment.agents["tule-c13"] = subprocess.Popen(
            [sys.executable, "-m", "loaxa.cli", "agent", "--config", str(home / "agent.toml")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_for("tule-c13 online", lambda: deployment.device("tule-c13")["online"] or None, 30)

    # Moved by the CLI: the running controller plans again within seconds; the new plan names the new
    # village's area topic, so emergencies sent to Bản Phình reach it (not at the 15-minute safety net).
    moved = _loaxa(deployment, "device", "move", "tule-c13", "ban-phinh")
    assert moved.returncode == 0, moved.stderr
    with deployment.controller.db.session() as session:
        area = session.get(Village, "ban-phinh").area_code  # type: ignore[union-attr]
    wait_for("a plan for Bản Phình", lambda: _plan_areas(deployment, "tule-c13") == [area] or None, 30)

    # Revoked by the CLI: the running controller notices within seconds and the broker throws it off.
    mark = len(_log(home))
    started = time.monotonic()
    revoked = _loaxa(deployment, "device", "revoke", "tule-c13")
    assert revoked.returncode == 0, revoked.stderr
    wait_for("tule-c13 refused by the broker", lambda: _refused_after(home, mark) or None, 30)
    print(f"revoked by another process → agent refused in {time.monotonic() - started:.2f} s")

    # Revoked over REST: at once (the use case reloads the broker before it answers).
    other = deployment.start_agent("tule-c04")
    wait_for("tule-c04 connected", lambda: "connected to" in _log(other) or None, 30)
    mark = len(_log(other))
    started = time.monotonic()
    status, body = deployment.api.call("POST", "/devices/tule-c04/revoke", user="admin")
    assert status == 200, body
    wait_for("tule-c04 refused by the broker", lambda: _refused_after(other, mark) or None, 30)
    print(f"revoked over REST → agent refused in {time.monotonic() - started:.2f} s")
    status, body = deployment.api.call("POST", "/devices/tule-c04/revoke", user="admin")
    assert status == 409, body
    # The others keep their connection: a reload drops only the clients whose login no longer passes.
    assert deployment.device("tule-c01")["revoked_at"] is None


def test_bundle_of_the_cli_is_an_agent_bundle() -> None:
    """The CLI prints AgentBundle.toml(); the test above edits its text, so check the lines it edits."""
    text = AgentBundle(device_id="x", mqtt_url="mqtt://h:1", mqtt_password="p", public_keys=("k",)).toml()
    for line in (
        'backend = "mpg123"',
        "/var/lib/loaxa/state",
        "/var/lib/loaxa/cache",
        "heartbeat_interval_s = 30",
    ):
        assert line in text
