"""The loaxa-agent Debian package, installed and upgraded with plain apt from the controller's signed
repository into a fresh Debian 12 root (issue 17); a broken config stops the service being enabled, and a
repository not signed by the controller's key is refused.
"""

from pathlib import Path

import pytest

from controller.bundle import AgentBundle
from loaxa.cli import main as loaxa
from loaxa.packaging import build_agent
from tests.integration.conftest import deployed
from tests.support.chroot import debian_root, in_root

pytestmark = pytest.mark.slow

SOURCES = "/etc/apt/sources.list.d/loaxa.list"


def _version(root: Path) -> str:
    return in_root(root, "dpkg-query -W -f '${Version} ${Status}' loaxa-agent").stdout


def test_the_agent_package_installs_and_upgrades_from_the_controllers_signed_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    debs = [build_agent(version, tmp_path / "dist") for version in ("0.1.0", "0.1.1")]
    root = debian_root(tmp_path / "pi")
    with deployed(tmp_path, opens_in_s=3600, length_s=60) as deployment:
        settings = deployment.controller.settings
        monkeypatch.setenv("LOAXA_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("LOAXA_PORT", str(settings.http.port))
        assert loaxa(["apt", "publish", str(debs[0])]) == 0
        base = f"http://127.0.0.1:{deployment.controller.web.port}/apt"
        # What a Pi's administrator does: the controller's key, its repository, nothing from the mirror.
        keyring = settings.data_dir / "apt" / "loaxa-archive-keyring.gpg"
        (root / "usr/share/keyrings/loaxa.gpg").write_bytes(keyring.read_bytes())
        line = f"deb [signed-by=/usr/share/keyrings/loaxa.gpg] {base} stable main"
        in_root(root, f"rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*; echo '{line}' > {SOURCES}")
        config = root / "etc/loaxa/agent.toml"
        password, keys = deployment.passwords["tule-c01"], deployment.controller.keys.public_keys_b64
        AgentBundle("tule-c01", settings.mqtt.url, password, keys).write(config)

        in_root(root, "apt-get update -q && apt-get install -y -q loaxa-agent")
        assert _version(root) == "0.1.0 install ok installed"
        in_root(root, "getent passwd loaxa")
        assert "tule-c01" in in_root(root, "loaxa-agent --check --config /etc/loaxa/agent.toml").stdout
        # The vendored libraries (paho-mqtt 2 and the rest) import with Debian's Python.
        imports = "import sys; sys.path.insert(0, '/usr/lib/loaxa-agent'); import edge_agent.agent, paho.mqtt"
        in_root(root, f'python3 -c "{imports}"')

        assert loaxa(["apt", "publish", str(debs[1])]) == 0
        in_root(root, "apt-get update -q && apt-get install -y -q --only-upgrade loaxa-agent")
        assert _version(root) == "0.1.1 install ok installed"

        # A broken config: the package stays unconfigured (the service is not enabled) until it is fixed.
        good = config.read_text()
        config.write_text('device_id = "tule-c01"\n')
        broken = in_root(root, "apt-get install -y -q --reinstall loaxa-agent", check=False)
        assert broken.returncode != 0 and "không hợp lệ" in broken.stderr
        assert "half-configured" in _version(root) or "unpacked" in _version(root)
        config.write_text(good)
        in_root(root, "dpkg --configure -a")
        assert _version(root) == "0.1.1 install ok installed"

        # Indexes not signed by the controller's key are refused.
        release = settings.data_dir / "apt/dists/stable/InRelease"
        release.write_text(release.read_text().replace("Label: loaxa", "Label: forged"))
        forged = in_root(root, "apt-get update -q", check=False)
        assert "BADSIG" in forged.stdout + forged.stderr or "not signed" in forged.stdout + forged.stderr
