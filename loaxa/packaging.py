"""`make deb`: the loaxa-agent Debian package, built with dpkg-deb from this source tree.

(loaxa.controller_package builds the second one, loaxa-controller, with the helpers here.)

Owns the package's layout: the agent and protocol packages with their pure-Python dependencies
(paho-mqtt 2, sdnotify, gpiozero, colorzero, copied from the build's own environment, since Debian 12
ships paho-mqtt 1.6) under /usr/lib/loaxa-agent, the `loaxa-agent` command, the systemd unit, and
maintainer scripts that create the `loaxa` system user and validate /etc/loaxa/agent.toml before the
service is enabled. The binary dependency (cryptography) comes from Debian, so the package is
`Architecture: all` and installs on every Raspberry Pi. It touches nothing outside the output directory.
"""

import importlib.metadata
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "loaxa-agent"
LIB = Path("usr/lib/loaxa-agent")
VENDORED = ("paho-mqtt", "sdnotify", "gpiozero", "colorzero")
DEPENDS = "python3 (>= 3.11), python3-cryptography, mpg123, alsa-utils, passwd"
# ffmpeg decodes relay and live streams and lets the agent check the level of what it airs (dead air).
# apt installs Recommends by default, so a Pi gets it; without it the agent plays files by mpg123 and
# cannot air relay and live items; Recommends keeps the offline test root small.
RECOMMENDS = "ffmpeg"

LAUNCHER = """#!/usr/bin/python3
# loaxa-agent: the edge agent, with its own copy of the libraries Debian lacks (/usr/lib/loaxa-agent).
import sys

sys.path.insert(0, "/usr/lib/loaxa-agent")
from edge_agent.cli import main  # noqa: E402

sys.exit(main())
"""

POSTINST = """#!/bin/sh
# loaxa-agent postinst: the system user, then the unit, enabled only once the config is valid.
set -e
CONFIG=/etc/loaxa/agent.toml
if [ "$1" = configure ]; then
    # Byte-compile once, as root: the service's user cannot write here, and compiling every module at each
    # start costs a Pi seconds of CPU and ~7 MB of the agent's memory (bench/bench_agent.py).
    python3 -m compileall -q /usr/lib/loaxa-agent >/dev/null 2>&1 || true
    if ! getent passwd loaxa >/dev/null; then
        useradd --system --home-dir /var/lib/loaxa --no-create-home --shell /usr/sbin/nologin loaxa
    fi
    for group in audio gpio; do
        if getent group "$group" >/dev/null; then usermod -aG "$group" loaxa; fi
    done
    install -d -m 0750 -o root -g loaxa /etc/loaxa
    install -d -m 0750 -o loaxa -g loaxa /var/lib/loaxa
    if [ ! -f "$CONFIG" ]; then
        echo "loaxa-agent: chưa có $CONFIG. Hãy tạo nó bằng 'loaxa device add' trên bộ điều khiển," >&2
        echo "  chép vào máy này rồi chạy: dpkg-reconfigure loaxa-agent" >&2
        exit 0
    fi
    if ! /usr/bin/loaxa-agent --check --config "$CONFIG"; then
        echo "loaxa-agent: $CONFIG không hợp lệ (xem lỗi ở trên); dịch vụ chưa được bật." >&2
        echo "  Sửa tệp rồi chạy: dpkg --configure -a" >&2
        exit 1
    fi
    chgrp loaxa "$CONFIG" && chmod 0640 "$CONFIG"
    if command -v systemctl >/dev/null; then
        systemctl enable loaxa-agent.service loaxa-agent-update.path >/dev/null 2>&1 || true
        if [ -d /run/systemd/system ]; then
            systemctl daemon-reload
            systemctl restart loaxa-agent.service
            systemctl start loaxa-agent-update.path
        fi
    fi
fi
exit 0
"""

PRERM = """#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop loaxa-agent.service || true
fi
find /usr/lib/loaxa-agent -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
exit 0
"""

POSTRM = """#!/bin/sh
set -e
if [ "$1" = purge ] && command -v systemctl >/dev/null; then
    systemctl disable loaxa-agent.service loaxa-agent-update.path >/dev/null 2>&1 || true
fi
exit 0
"""


def copy_distribution(name: str, target: Path) -> None:
    """Copy an installed distribution's package files (not its scripts) into `target`."""
    dist = importlib.metadata.distribution(name)
    for entry in dist.files or ():
        if entry.parts[0] == ".." or "__pycache__" in entry.parts or entry.name in ("RECORD", "INSTALLER"):
            continue
        source = Path(str(dist.locate_file(entry)))
        destination = target / Path(*entry.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def _copy_package(name: str, target: Path) -> None:
    shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def stage_agent_lib(lib: Path, version: str) -> None:
    """What the package puts in /usr/lib/loaxa-agent: our two packages, the vendored libraries, the version.

    bench/bench_agent.py runs the agent from this too, so its memory is measured as a Pi runs it.
    """
    for package in ("edge_agent", "protocol"):
        _copy_package(package, lib)
    for name in VENDORED:
        copy_distribution(name, lib)
    write_version(lib, version)


def write(path: Path, text: str, mode: int = 0o644) -> None:
    """Write a file of the package tree with its mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def write_version(lib: Path, version: str) -> None:
    """Record `version` as the installed loaxa's (what the agent reports in births and heartbeats).

    The rollout compares the reported version with the Debian version it sent, so the package's own
    version is written, not the source tree's.
    """
    write(
        lib / f"loaxa-{version}.dist-info" / "METADATA",
        f"Metadata-Version: 2.1\nName: loaxa\nVersion: {version}\n",
    )


def unit_text() -> str:
    """The agent's systemd unit as packaged (the same as firmware_notes', with the package's command)."""
    unit = (ROOT / "firmware_notes" / "loaxa-agent.service").read_text(encoding="utf-8")
    unit = unit.replace("ExecStart=/opt/loaxa/venv/bin/loaxa agent", "ExecStart=/usr/bin/loaxa-agent")
    return unit.replace("by firmware_notes/install.sh as /etc/systemd", "by the package as /lib/systemd")


def build_agent(version: str, out: Path) -> Path:
    """Build `loaxa-agent_{version}_all.deb` in `out`; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="loaxa-deb-") as scratch:
        tree = Path(scratch) / NAME
        stage_agent_lib(tree / LIB, version)
        write(tree / "usr/bin/loaxa-agent", LAUNCHER, 0o755)
        write(tree / "lib/systemd/system/loaxa-agent.service", unit_text())
        # The root-side OTA helper (firmware_notes/loaxa-agent-update) and the units that start it.
        notes = ROOT / "firmware_notes"
        write(tree / "usr/sbin/loaxa-agent-update", (notes / "loaxa-agent-update").read_text(), 0o755)
        for unit in ("loaxa-agent-update.path", "loaxa-agent-update.service"):
            write(tree / "lib/systemd/system" / unit, (notes / unit).read_text())
        write(tree / "usr/share/doc/loaxa-agent/copyright", (ROOT / "LICENSE").read_text(encoding="utf-8"))
        size_kb = sum(f.stat().st_size for f in tree.rglob("*") if f.is_file()) // 1024
        control = (
            f"Package: {NAME}\nVersion: {version}\nArchitecture: all\nSection: sound\nPriority: optional\n"
            f"Maintainer: loaxa <loaxa@localhost>\nInstalled-Size: {size_kb}\nDepends: {DEPENDS}\n"
            f"Recommends: {RECOMMENDS}\n"
            "Description: loaxa edge agent for a commune loudspeaker cluster\n"
            " Plays the signed broadcast plan of a loaxa controller on time, also offline,\n"
            " and reports what it played (Raspberry Pi, systemd with watchdog).\n"
        )
        write(tree / "DEBIAN/control", control)
        for script, text in (("postinst", POSTINST), ("prerm", PRERM), ("postrm", POSTRM)):
            write(tree / "DEBIAN" / script, text, 0o755)
        deb = out / f"{NAME}_{version}_all.deb"
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(tree), str(deb)],
            check=True,
            capture_output=True,
        )
    return deb
