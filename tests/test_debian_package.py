"""`make deb` builds an arch-all loaxa-agent package; `loaxa apt publish` signs a repository of it that
gpgv verifies with the exported key alone (the chroot install is tests/integration/test_deb.py)."""

import subprocess
from pathlib import Path

from controller.apt_repo import KEYRING, publish
from loaxa.packaging import build_agent


def test_the_agent_package_holds_the_agent_its_libraries_unit_and_scripts(tmp_path: Path) -> None:
    deb = build_agent("1.2.3", tmp_path)
    assert deb.name == "loaxa-agent_1.2.3_all.deb"

    def field(name: str) -> str:
        return subprocess.run(
            ["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True
        ).stdout.strip()

    assert (field("Architecture"), field("Version")) == ("all", "1.2.3")
    assert "python3-cryptography" in field("Depends") and "paho" not in field("Depends")
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    for path in (
        "./usr/bin/loaxa-agent",
        "./usr/lib/loaxa-agent/edge_agent/agent.py",
        "./usr/lib/loaxa-agent/protocol/signing.py",
        "./usr/lib/loaxa-agent/paho/mqtt/client.py",
        "./usr/lib/loaxa-agent/sdnotify/__init__.py",
        "./lib/systemd/system/loaxa-agent.service",
    ):
        assert path in listing, path
    assert "__pycache__" not in listing and "controller/" not in listing
    unpacked = tmp_path / "unpacked"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    unit = (unpacked / "lib/systemd/system/loaxa-agent.service").read_text()
    assert "ExecStart=/usr/bin/loaxa-agent --config /etc/loaxa/agent.toml" in unit


def test_the_repository_is_signed_by_the_controllers_own_key(tmp_path: Path) -> None:
    deb = build_agent("1.2.3", tmp_path / "dist")
    repo, keys = tmp_path / "apt", tmp_path / "keys"
    keyring = publish([deb], repo, keys, "tule")
    assert keyring == repo / KEYRING and (keys / "apt-gnupg").stat().st_mode & 0o077 == 0
    dist = repo / "dists" / "stable"
    packages = (dist / "main/binary-all/Packages").read_text()
    assert "Package: loaxa-agent" in packages and "Filename: pool/main/loaxa-agent_1.2.3_all.deb" in packages
    release = dist / "Release"

    def verified(*files: Path) -> bool:
        command = ["gpgv", "--keyring", str(keyring), *map(str, files)]
        return subprocess.run(command, capture_output=True, check=False).returncode == 0

    assert verified(dist / "InRelease") and verified(dist / "Release.gpg", release)
    release.write_text(release.read_text() + "Label: forged\n")
    assert not verified(dist / "Release.gpg", release)
    # Publishing again keeps the same key (agents trust it once).
    assert publish([deb], repo, keys, "tule").read_bytes() == keyring.read_bytes()
