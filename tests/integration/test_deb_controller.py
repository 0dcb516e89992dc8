"""The loaxa-controller Debian package installed with dpkg -i into a fresh Debian 12 root, offline
(issue 17): its user, unit and config in /etc/loaxa; `loaxa --help` and `loaxa check-config` run with
Debian's Python; a broken configuration leaves the package unconfigured until it is fixed.
"""

from importlib import metadata
from pathlib import Path

import pytest

from loaxa.controller_package import build_controller
from tests.support.chroot import debian_root, in_root

# Building (~360 MB of libraries) and unpacking them take a minute or two; more on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _status(root: Path) -> str:
    return in_root(root, "dpkg-query -W -f '${Version} ${Status}' loaxa-controller").stdout


def test_the_controller_package_installs_offline_and_checks_its_config(tmp_path: Path) -> None:
    version = metadata.version("loaxa")
    deb = build_controller(version, tmp_path / "dist")
    root = debian_root(tmp_path / "server")
    (root / "tmp" / deb.name).write_bytes(deb.read_bytes())

    # An administrator's broken setting already in place: dpkg keeps it (confold) and the postinst refuses
    # it, so the package stays unconfigured and the service is not started.
    env = root / "etc/loaxa/controller.env"
    env.parent.mkdir(parents=True)
    env.write_text("LOAXA_DATA_DIR=/var/lib/loaxa\nLOAXA_MQTT_MODE=sideways\n")
    broken = in_root(root, f"dpkg -i --force-confold /tmp/{deb.name}", check=False)
    assert broken.returncode != 0 and "không hợp lệ" in broken.stderr, broken.stderr
    assert "mqtt.mode" in broken.stderr
    assert "half-configured" in _status(root)

    # The packaged settings (kept aside by dpkg as .dpkg-dist) pass: configuring now finishes the install.
    env.write_text((root / "etc/loaxa/controller.env.dpkg-dist").read_text())
    configured = in_root(root, "dpkg --configure -a")
    assert "default.toml: Asia/Ho_Chi_Minh" in configured.stdout  # check-config ran in the postinst
    assert _status(root) == f"{version} install ok installed"
    in_root(root, 'getent passwd loaxa && test "$(stat -c %U:%a /var/lib/loaxa)" = loaxa:700')
    assert "Smart loudspeaker system" in in_root(root, "loaxa --help").stdout
    # As the service runs it: its user, its environment file.
    checked = in_root(root, "set -a; . /etc/loaxa/controller.env; runuser -u loaxa -- loaxa check-config")
    assert "✓" in checked.stdout
    report = "import sys; sys.path.insert(0, '/usr/lib/loaxa-controller'); import importlib.metadata as m; "
    assert in_root(root, f"python3 -c \"{report}print(m.version('loaxa'))\"").stdout.strip() == version
    unit = (root / "lib/systemd/system/loaxa-controller.service").read_text()
    assert "ExecStart=/usr/bin/loaxa controller" in unit
    assert "EnvironmentFile=/etc/loaxa/controller.env" in unit
    # Removing the package leaves the settings (a conffile; purge removes it).
    in_root(root, "dpkg -r loaxa-controller && test -f /etc/loaxa/controller.env && ! test -e /usr/bin/loaxa")
