"""The root-side OTA helper shipped in loaxa-agent (usr/sbin/loaxa-agent-update) in a fresh Debian 12 root:
it installs the version the agent asked for from the controller's signed repository, refuses a .deb whose
SHA-256 differs from the command's, and reinstalls the previous version when the health marker does not
appear in time (issue 17).
"""

import hashlib
import subprocess
import time
from pathlib import Path

import pytest

from controller.bundle import AgentBundle
from edge_agent.update import mark_healthy, request_update
from loaxa.cli import main as loaxa
from loaxa.packaging import build_agent
from tests.integration.conftest import deployed
from tests.support.chroot import debian_root, in_root

pytestmark = pytest.mark.slow

HELPER = "LOAXA_UPDATE_HEALTH_S={s} /usr/sbin/loaxa-agent-update"


def _version(root: Path) -> str:
    return in_root(root, "dpkg-query -W -f '${Version}' loaxa-agent").stdout


def _ask(root: Path, version: str, sha256: str) -> None:
    """What the agent does on a verified `update` command: write the request for the root-side helper."""
    request_update(root / "var/lib/loaxa/state", version, sha256)


def test_the_helper_updates_refuses_a_wrong_hash_and_rolls_back_without_the_health_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    debs = [build_agent(version, tmp_path / "dist") for version in ("0.1.0", "0.1.1")]
    new_sha = hashlib.sha256(debs[1].read_bytes()).hexdigest()
    root = debian_root(tmp_path / "pi")
    with deployed(tmp_path, opens_in_s=3600, length_s=60) as deployment:
        settings = deployment.controller.settings
        monkeypatch.setenv("LOAXA_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("LOAXA_PORT", str(settings.http.port))
        for deb in debs:
            assert loaxa(["apt", "publish", str(deb)]) == 0
        base = f"http://127.0.0.1:{deployment.controller.web.port}/apt"
        keyring = settings.data_dir / "apt" / "loaxa-archive-keyring.gpg"
        (root / "usr/share/keyrings/loaxa.gpg").write_bytes(keyring.read_bytes())
        line = f"deb [signed-by=/usr/share/keyrings/loaxa.gpg] {base} stable main"
        sources = "/etc/apt/sources.list.d/loaxa.list"
        in_root(root, f"rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*; echo '{line}' > {sources}")
        password, keys = deployment.passwords["tule-c01"], deployment.controller.keys.public_keys_b64
        AgentBundle("tule-c01", settings.mqtt.url, password, keys).write(root / "etc/loaxa/agent.toml")
        in_root(root, "apt-get update -q && apt-get install -y -q loaxa-agent=0.1.0")
        assert _version(root) == "0.1.0"

        # A .deb that is not the one the signed command named is not installed.
        _ask(root, "0.1.1", "0" * 64)
        wrong = in_root(root, HELPER.format(s=1), check=False)
        assert wrong.returncode == 3 and "SHA-256" in wrong.stderr
        assert _version(root) == "0.1.0"

        # No health marker within the wait: the helper reinstalls 0.1.0 by itself.
        _ask(root, "0.1.1", new_sha)
        rolled = in_root(root, HELPER.format(s=2), check=False)
        assert rolled.returncode == 1 and "quay lui" in rolled.stderr, rolled.stderr
        assert _version(root) == "0.1.0"

        # The marker appears (the new agent reached the broker and played a tone): the update stays.
        _ask(root, "0.1.1", new_sha)
        helper = subprocess.Popen(
            ["chroot", str(root), "/bin/sh", "-c", HELPER.format(s=120)],
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            while _version(root) != "0.1.1" and helper.poll() is None:
                time.sleep(0.2)
            mark_healthy(root / "var/lib/loaxa/state", "0.1.1")
            _, err = helper.communicate(timeout=120)
        finally:
            if helper.poll() is None:
                helper.kill()
        assert helper.returncode == 0, err
        assert _version(root) == "0.1.1"
