"""firmware_notes/install.sh parses, is shellcheck-clean, and its --dry-run shows every step without
changing the machine; the systemd unit has the watchdog and restart settings the agent relies on."""

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from controller.bundle import AgentBundle

NOTES = Path(__file__).parents[2] / "firmware_notes"
SCRIPT = NOTES / "install.sh"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, check=False)


def test_script_parses_and_is_shellcheck_clean() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_dry_run_shows_each_step_and_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text('device_id = "tule-c01"\n')
    result = run("--config", str(config), "--dry-run", "--modem", "--apn", "m3-world", "--ca", str(config))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "+ apt-get install -y --no-install-recommends python3",
        "mpg123 alsa-utils",
        "fake-hwclock",
        "+ /opt/loaxa/venv/bin/pip install",
        f"+ install -m 0640 -o root -g loaxa {config} /etc/loaxa/agent.toml",
        "/etc/loaxa/ca.pem",
        "nmcli connection add type gsm",
        "apn m3-world",
        "+ ln -sf /var/lib/loaxa/fake-hwclock.data /etc/fake-hwclock.data",
        "+ systemctl enable --now loaxa-agent.service",
    ):
        assert expected in out, f"{expected!r} missing from the dry run:\n{out}"
    # A broken config must stop the install before the service is enabled (it would restart forever).
    check = out.index("+ /opt/loaxa/venv/bin/loaxa agent --check --config /etc/loaxa/agent.toml")
    assert check < out.index("+ systemctl enable --now loaxa-agent.service")
    assert (
        not Path("/etc/loaxa/agent.toml").exists()
        or "tule-c01" not in Path("/etc/loaxa/agent.toml").read_text()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "--config is required"),
        (("--config", "/nonexistent.toml", "--dry-run"), "does not exist"),
        (("--config", str(SCRIPT), "--dry-run", "--modem"), "--modem needs --apn"),
        (("--bogus",), "unknown option --bogus"),
    ],
)
def test_mistakes_are_explained(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode != 0 and message in result.stderr


def test_unit_has_watchdog_notify_and_restart() -> None:
    unit = (NOTES / "loaxa-agent.service").read_text()
    for line in ("Type=notify", "WatchdogSec=60", "Restart=always", "StartLimitIntervalSec=0", "User=loaxa"):
        assert f"\n{line}\n" in unit, line
    assert "ExecStart=/opt/loaxa/venv/bin/loaxa agent --config /etc/loaxa/agent.toml" in unit
    # It starts without waiting for the network, as its comment says: it plays its stored plan offline.
    ordering = [line for line in unit.splitlines() if line.startswith(("Wants=", "After=", "Requires="))]
    assert ordering and not any("network-online" in line for line in ordering), ordering


def test_agent_check_validates_a_config_without_starting(tmp_path: Path) -> None:
    """What install.sh runs before enabling the service."""
    bad = tmp_path / "bad.toml"
    bad.write_text('device_id = "tule-c01"\n')
    good = tmp_path / "agent.toml"
    key = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()
    AgentBundle("tule-c01", "mqtt://127.0.0.1:1883", "secret", (key,)).write(good)
    for config, code, said in ((bad, 2, "loaxa agent:"), (good, 0, "hợp lệ: cụm loa tule-c01")):
        command = [sys.executable, "-m", "loaxa.cli", "agent", "--check", "--config", str(config)]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
        assert result.returncode == code and said in result.stdout + result.stderr, result
