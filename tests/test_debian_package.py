"""`make deb` builds an arch-all loaxa-agent package (and loaxa-controller); `loaxa apt publish` signs a
repository of it that gpgv verifies with the exported key alone. The chroot installs are
tests/integration/test_deb.py, test_deb_update.py and test_deb_controller.py."""

import hashlib
import subprocess
from pathlib import Path

import pytest

from controller.apt_repo import KEYRING, RepositoryError, publish, published_sha256, published_versions
from loaxa import controller_package
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
        "./usr/lib/loaxa-agent/loaxa-1.2.3.dist-info/METADATA",  # the version the agent reports
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
    # The rollout reads the signed index: a published version's SHA-256 is the file's.
    assert published_versions(repo, "loaxa-agent") == ["1.2.3"]
    assert published_sha256(repo, "loaxa-agent", "1.2.3") == hashlib.sha256(deb.read_bytes()).hexdigest()
    with pytest.raises(RepositoryError, match=r"chưa có loaxa-agent 9\.9"):
        published_sha256(repo, "loaxa-agent", "9.9")


def test_the_controller_package_carries_the_controller_extra_and_its_unit() -> None:
    names = {name.lower().replace("_", "-") for name in controller_package.controller_distributions()}
    assert {"sqlalchemy", "pydantic-core", "paho-mqtt", "apiflask", "waitress", "piper-tts"} <= names
    assert not names & {"pytest", "playwright", "mypy", "gpiozero"}  # dev tools and the Pi's libraries
    unit = controller_package.unit_text()
    assert "ExecStart=/usr/bin/loaxa controller" in unit and "/opt/loaxa" not in unit
    assert "EnvironmentFile=/etc/loaxa/controller.env" in unit
    assert "loaxa check-config" in controller_package.POSTINST
