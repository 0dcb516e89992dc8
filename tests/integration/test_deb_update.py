"""The root-side OTA helper shipped in loaxa-agent (usr/sbin/loaxa-agent-update) in a fresh Debian 12 root:
it installs the version the agent asked for from the controller's signed repository, refuses a .deb whose
SHA-256 differs from the command's, and reinstalls the previous version by itself when the new one's
postinst fails, when its agent refuses to run, or when no health marker of the new version appears in
time (issue 17). The root has no systemd: the helper's "service failed" check is not exercised here.
"""

import hashlib
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _pi_on_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debs: list[Path], first: str
) -> Iterator[Path]:
    """A Debian root whose apt source is the controller's repository holding `debs`, `first` installed."""
    root = debian_root(tmp_path / "pi")
    with deployed(tmp_path, opens_in_s=3600, length_s=60) as deployment:
        settings = deployment.controller.settings
        monkeypatch.setenv("LOAXA_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("LOAXA_PORT", str(settings.http.port))
        assert loaxa(["apt", "publish", *map(str, debs)]) == 0
        base = f"http://127.0.0.1:{deployment.controller.web.port}/apt"
        keyring = settings.data_dir / "apt" / "loaxa-archive-keyring.gpg"
        (root / "usr/share/keyrings/loaxa.gpg").write_bytes(keyring.read_bytes())
        line = f"deb [signed-by=/usr/share/keyrings/loaxa.gpg] {base} stable main"
        sources = "/etc/apt/sources.list.d/loaxa.list"
        in_root(root, f"rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*; echo '{line}' > {sources}")
        password, keys = deployment.passwords["tule-c01"], deployment.controller.keys.public_keys_b64
        AgentBundle("tule-c01", settings.mqtt.url, password, keys).write(root / "etc/loaxa/agent.toml")
        in_root(root, f"apt-get update -q && apt-get install -y -q loaxa-agent={first}")
        assert _version(root) == first
        yield root


def _sha(deb: Path) -> str:
    return hashlib.sha256(deb.read_bytes()).hexdigest()


def test_the_helper_updates_refuses_a_wrong_hash_and_rolls_back_without_the_health_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    debs = [build_agent(version, tmp_path / "dist") for version in ("0.1.0", "0.1.1")]
    new_sha = _sha(debs[1])
    with _pi_on_version(tmp_path, monkeypatch, debs, "0.1.0") as root:
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

        # A marker left by the old version does not count: only the new version's own report does.
        _ask(root, "0.1.1", new_sha)
        rc, err = _helper_seeing_marker(root, "0.1.1", marker="0.1.0", wait_s=3)
        assert rc == 1 and "không báo khỏe" in err, err
        assert _version(root) == "0.1.0"

        # The new version's marker appears (it reached the broker and played a tone): the update stays.
        _ask(root, "0.1.1", new_sha)
        rc, err = _helper_seeing_marker(root, "0.1.1", marker="0.1.1", wait_s=120)
        assert rc == 0, err
        assert _version(root) == "0.1.1"
        # The agent reports the package's version (what the controller's rollout compares).
        report = "import sys; sys.path.insert(0, '/usr/lib/loaxa-agent'); from edge_agent.adapters import *; "
        assert in_root(root, f'python3 -c "{report}print(agent_version())"').stdout.strip() == "0.1.1"


def _helper_seeing_marker(root: Path, version: str, *, marker: str, wait_s: int) -> tuple[int, str]:
    """Run the helper for `version`; once it installed it, write a health marker naming `marker`."""
    helper = subprocess.Popen(
        ["chroot", str(root), "/bin/sh", "-c", HELPER.format(s=wait_s)],
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while _version(root) != version and helper.poll() is None:
            time.sleep(0.2)
        mark_healthy(root / "var/lib/loaxa/state", marker)
        _, err = helper.communicate(timeout=wait_s + 120)
    finally:
        if helper.poll() is None:
            helper.kill()
    return helper.returncode, err


def _repacked(deb: Path, out: Path, change: dict[str, str]) -> Path:
    """A copy of `deb` with files replaced ({path in the package: new text}), e.g. a broken postinst."""
    tree = out / deb.stem
    subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True)
    for path, text in change.items():
        (tree / path).write_text(text)
    built = out / deb.name
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-b", str(tree), str(built)], check=True, capture_output=True
    )
    return built


def test_a_new_version_that_fails_to_install_or_to_run_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, postinst_fails, agent_fails = (
        build_agent(version, tmp_path / "dist") for version in ("0.1.0", "0.1.1", "0.1.2")
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    debs = [
        good,
        _repacked(
            postinst_fails, broken, {"DEBIAN/postinst": "#!/bin/sh\necho 'postinst hỏng' >&2\nexit 1\n"}
        ),
        # The new agent refuses to run at all (its own check fails, so its postinst does too).
        _repacked(agent_fails, broken, {"usr/bin/loaxa-agent": "#!/bin/sh\necho 'agent hỏng' >&2\nexit 1\n"}),
    ]
    with _pi_on_version(tmp_path, monkeypatch, debs, "0.1.0") as root:
        for deb, words in ((debs[1], "postinst hỏng"), (debs[2], "agent hỏng")):
            version = deb.name.split("_")[1]
            _ask(root, version, _sha(deb))
            rolled = in_root(root, HELPER.format(s=60), check=False)
            assert rolled.returncode == 1, rolled.stderr
            assert (
                words in rolled.stderr and "không thành công" in rolled.stderr and "quay lui" in rolled.stderr
            )
            status = in_root(root, "dpkg-query -W -f '${Version} ${Status}' loaxa-agent").stdout
            assert status == "0.1.0 install ok installed", (version, status)
        # The previous version works again: its own check passes.
        assert "tule-c01" in in_root(root, "loaxa-agent --check --config /etc/loaxa/agent.toml").stdout
