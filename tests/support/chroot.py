"""A fresh Debian 12 root for package tests: made once by debootstrap, cached as a tarball under var/.

Making it takes about two minutes and needs root, debootstrap and the Debian mirror; unpacking the cached
tarball takes seconds. The root already holds the Debian dependencies of both packages (loaxa-agent and
loaxa-controller), so installing them, from the controller's repository or with dpkg -i, needs no mirror.
The cache's name carries a digest of the package list, so a changed list builds a new root.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIRROR = os.environ.get("LOAXA_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# debootstrap resolves no virtual packages: python3-cryptography's cffi API needs python3-cffi-backend.
# The agent needs the first six; the controller's Depends add mosquitto and espeak-ng (ffmpeg is only
# recommended: it would triple the root, and dpkg -i does not install recommendations).
INCLUDE = (
    "python3,python3-cffi-backend,python3-psutil,python3-cryptography,mpg123,alsa-utils,mosquitto,espeak-ng"
)
_DIGEST = hashlib.blake2s(INCLUDE.encode(), digest_size=4).hexdigest()
CACHE = ROOT / "var" / "cache" / f"debian-bookworm-loaxa-{_DIGEST}.tar"


def _make_cache() -> None:
    building = CACHE.with_suffix(".building")
    shutil.rmtree(building, ignore_errors=True)
    made = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={INCLUDE}", "bookworm", str(building), MIRROR],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        raise RuntimeError(f"debootstrap failed ({made.returncode}): {(made.stdout + made.stderr)[-2000:]}")
    subprocess.run(["chroot", str(building), "apt-get", "clean"], check=True)
    partial = CACHE.with_suffix(".partial")
    subprocess.run(["tar", "--numeric-owner", "-cf", str(partial), "-C", str(building), "."], check=True)
    partial.replace(CACHE)
    shutil.rmtree(building, ignore_errors=True)


def debian_root(target: Path) -> Path:
    """Unpack a fresh Debian 12 (bookworm, minbase) root into `target`; skips without root or tools."""
    if os.geteuid() != 0:
        pytest.skip("a Debian chroot needs root")
    if not CACHE.exists():
        if shutil.which("debootstrap") is None:
            pytest.skip("debootstrap is not installed (apt-get install debootstrap); `make test` installs it")
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        # Two test workers may both find no cache: one builds, the other waits for it and reuses it
        # (two debootstraps into the same folder failed each other in CI).
        with (CACHE.parent / "debian-bookworm.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not CACHE.exists():
                _make_cache()
    target.mkdir(parents=True)
    # Our own tarball, with device nodes, owners and modes: GNU tar as root restores them all.
    subprocess.run(["tar", "--numeric-owner", "-xpf", str(CACHE), "-C", str(target)], check=True)
    return target


def in_root(root: Path, script: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a shell script inside the root (same network: the controller on 127.0.0.1 is reachable)."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LANG": "C.UTF-8"}
    result = subprocess.run(
        ["chroot", str(root), "/bin/sh", "-ec", script], env=env, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"in the chroot, exit {result.returncode}:\n{script}\n{result.stdout}\n{result.stderr}"
        )
    return result
