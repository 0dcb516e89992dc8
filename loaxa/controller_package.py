"""`make deb`, second package: loaxa-controller, the controller with its own Python libraries, for Debian 12.

Owns the package's layout: loaxa's packages (loaxa, controller, web, protocol, edge_agent, schedules) and
every library of the `controller` extra, copied from the build's own environment (Debian 12 lacks
SQLAlchemy 2, pydantic 2, Flask 3, APScheduler 3.11, paho-mqtt 2), under /usr/lib/loaxa-controller; the
`loaxa` command; the unit from docs/loaxa-controller.service; /etc/loaxa/controller.env (a conffile);
and maintainer scripts that create the `loaxa` user, validate the configuration with
`loaxa check-config` and start the service only when it passes.

Several of those libraries hold compiled code (pydantic-core, cryptography, numpy, SciPy, onnxruntime,
psycopg, argon2), so the package is built for the build machine's architecture and Python (built on a
Pi 4 with Raspberry Pi OS 12 it is arm64), not `all`. Everything installs offline with dpkg -i; ffmpeg
(audio conversion) is recommended rather than required so a minimal root can check the configuration
without it. It touches nothing outside the output directory.
"""

import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from loaxa.packaging import ROOT, copy_distribution, write, write_version

NAME = "loaxa-controller"
LIB = Path("usr/lib/loaxa-controller")
OWN_PACKAGES = ("loaxa", "controller", "web", "protocol", "edge_agent", "schedules")
ENV_FILE = "/etc/loaxa/controller.env"

LAUNCHER = """#!/usr/bin/python3
# loaxa: the controller's command, with its own copy of the libraries Debian lacks.
import sys

sys.path.insert(0, "/usr/lib/loaxa-controller")
from loaxa.cli import main  # noqa: E402

sys.exit(main())
"""

CONTROLLER_ENV = """# loaxa controller settings (LOAXA_*) for loaxa-controller.service (docs/province.md).
# After a change: loaxa check-config, then systemctl restart loaxa-controller.
LOAXA_DATA_DIR=/var/lib/loaxa
LOAXA_COMMUNE=tule
# LOAXA_PORT=8080
# LOAXA_DATABASE_URL=postgresql+psycopg://loaxa:PASSWORD@localhost/loaxa
# LOAXA_MQTT_MODE=external
# LOAXA_MQTT_URL=mqtt://127.0.0.1:1883
"""

POSTINST = f"""#!/bin/sh
# loaxa-controller postinst: the system user, then the unit, started only once `loaxa check-config` passes.
set -e
ENV={ENV_FILE}
if [ "$1" = configure ]; then
    if ! getent passwd loaxa >/dev/null; then
        useradd --system --home-dir /var/lib/loaxa --no-create-home --shell /usr/sbin/nologin loaxa
    fi
    install -d -m 0750 -o root -g loaxa /etc/loaxa
    install -d -m 0700 -o loaxa -g loaxa /var/lib/loaxa
    chgrp loaxa "$ENV" && chmod 0640 "$ENV"
    # The settings as the service sees them (systemd's EnvironmentFile, read here by the shell).
    if ! (set -a; . "$ENV"; set +a; runuser -u loaxa -- /usr/bin/loaxa check-config); then
        echo "loaxa-controller: cấu hình trong $ENV không hợp lệ (xem lỗi ở trên); dịch vụ chưa được bật." >&2
        echo "  Sửa tệp rồi chạy: dpkg --configure -a" >&2
        exit 1
    fi
    if command -v systemctl >/dev/null; then
        # The controller runs its own mosquitto (managed mode); Debian's would hold port 1883.
        if ! grep -Eq '^LOAXA_MQTT_MODE=external' "$ENV"; then
            systemctl disable --now mosquitto.service >/dev/null 2>&1 || true
        fi
        systemctl enable loaxa-controller.service >/dev/null 2>&1 || true
        if [ -d /run/systemd/system ]; then
            systemctl daemon-reload
            systemctl restart loaxa-controller.service
        fi
    fi
fi
exit 0
"""

PRERM = """#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop loaxa-controller.service || true
fi
find /usr/lib/loaxa-controller -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
exit 0
"""

POSTRM = """#!/bin/sh
set -e
if [ "$1" = purge ] && command -v systemctl >/dev/null; then
    systemctl disable loaxa-controller.service >/dev/null 2>&1 || true
fi
exit 0
"""


def controller_distributions() -> list[str]:
    """Every installed distribution the `controller` extra needs, directly or not, by name."""
    found: dict[str, str] = {}

    def walk(requirement: Requirement, extras: tuple[str, ...]) -> None:
        if requirement.marker is not None and not any(
            requirement.marker.evaluate({"extra": extra}) for extra in extras
        ):
            return
        key = canonicalize_name(requirement.name)
        if key in found:
            return
        dist = importlib.metadata.distribution(requirement.name)
        found[key] = dist.metadata["Name"]
        for text in dist.requires or ():
            walk(Requirement(text), ("", *requirement.extras))

    for text in importlib.metadata.distribution("loaxa").requires or ():
        walk(Requirement(text), ("", "controller"))
    return sorted(found.values())


def unit_text() -> str:
    """docs/loaxa-controller.service with the package's command and documentation path."""
    unit = (ROOT / "docs" / "loaxa-controller.service").read_text(encoding="utf-8")
    for source, packaged in (
        ("ExecStart=/opt/loaxa/venv/bin/loaxa controller", "ExecStart=/usr/bin/loaxa controller"),
        ("file:///opt/loaxa/docs/operations.md", "file:///usr/share/doc/loaxa-controller/operations.md"),
        (
            "# loaxa controller — copy to /etc/systemd/system/",
            "# loaxa controller, packaged as /lib/systemd/system/",
        ),
    ):
        unit = unit.replace(source, packaged)
    return unit


def _architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def build_controller(version: str, out: Path) -> Path:
    """Build `loaxa-controller_{version}_{arch}.deb` in `out`; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    arch = _architecture()
    major, minor = sys.version_info.major, sys.version_info.minor
    with tempfile.TemporaryDirectory(prefix="loaxa-deb-") as scratch:
        tree = Path(scratch) / NAME
        for package in OWN_PACKAGES:
            shutil.copytree(
                ROOT / package, tree / LIB / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        for name in controller_distributions():
            copy_distribution(name, tree / LIB)
        write_version(tree / LIB, version)
        write(tree / "usr/bin/loaxa", LAUNCHER, 0o755)
        write(tree / "lib/systemd/system/loaxa-controller.service", unit_text())
        write(tree / ENV_FILE.lstrip("/"), CONTROLLER_ENV, 0o640)
        docs = tree / "usr/share/doc/loaxa-controller"
        write(docs / "copyright", (ROOT / "LICENSE").read_text(encoding="utf-8"))
        write(docs / "operations.md", (ROOT / "docs" / "operations.md").read_text(encoding="utf-8"))
        size_kb = sum(f.stat().st_size for f in tree.rglob("*") if f.is_file()) // 1024
        control = (
            f"Package: {NAME}\nVersion: {version}\nArchitecture: {arch}\nSection: net\nPriority: optional\n"
            f"Maintainer: loaxa <loaxa@localhost>\nInstalled-Size: {size_kb}\n"
            # The compiled libraries were built for this Python: the same minor version is needed.
            f"Depends: python3 (>= {major}.{minor}), python3 (<< {major}.{minor + 1}), "
            "mosquitto (>= 2), espeak-ng, passwd, util-linux\n"
            "Recommends: ffmpeg, gnupg, apt-utils, postgresql-client\n"
            "Description: loaxa controller for a commune's smart loudspeaker system\n"
            " Turns approved bulletins into Vietnamese speech, plans them into broadcast windows and\n"
            " sends signed plans to the edge agents over MQTT (web UI, REST API, managed mosquitto).\n"
        )
        write(tree / "DEBIAN/control", control)
        write(tree / "DEBIAN/conffiles", f"{ENV_FILE}\n")
        for script, text in (("postinst", POSTINST), ("prerm", PRERM), ("postrm", POSTRM)):
            write(tree / "DEBIAN" / script, text, 0o755)
        deb = out / f"{NAME}_{version}_{arch}.deb"
        # gzip -1: the libraries are ~360 MB; xz would take minutes for a few MB less.
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(tree), str(deb)],
            check=True,
            capture_output=True,
        )
    return deb
