"""The controller's own apt repository: the agent packages, signed with a key only this controller holds.

Owns the repository under data_dir/apt (pool/, dists/stable/, the public key) and its OpenPGP key in
data_dir/keys/apt-gnupg (made on first use, no passphrase, never leaves the controller). Indexes come
from apt-ftparchive, signatures from gpg (InRelease and Release.gpg), so a Pi with
`deb [signed-by=/usr/share/keyrings/loaxa.gpg] http://CONTROLLER/apt stable main` installs and
upgrades with plain apt, and refuses anything this key did not sign. Serving the files is the web's job.
"""

import gzip
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from controller.config import Settings

SUITE = "stable"
COMPONENT = "main"
KEYRING = "loaxa-archive-keyring.gpg"


class RepositoryError(Exception):
    """The repository could not be written; the message says what failed."""


def _run(command: list[str], **kwargs: object) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RepositoryError(
            f"{command[0]} {command[1]} lỗi (mã {result.returncode}): {result.stderr.strip()}"
        )
    return str(result.stdout)


def _short(home: Path) -> Path:
    """A short path to `home`: gpg-agent's socket lives there, and socket paths hold at most 108 bytes."""
    digest = hashlib.blake2s(bytes(home.resolve()), digest_size=6).hexdigest()
    link = Path(tempfile.gettempdir()) / f"loaxa-gpg-{digest}"
    if not link.is_symlink() or link.resolve() != home.resolve():
        link.unlink(missing_ok=True)
        link.symlink_to(home.resolve())
    return link


def _gpg(home: Path, *args: str) -> str:
    short = str(_short(home))
    return _run(["gpg", "--homedir", short, "--batch", "--yes", "--pinentry-mode", "loopback", *args])


def _stop_agent(home: Path) -> None:
    """Stop the gpg-agent started for this key (nothing else needs it), then remove the short link."""
    link = _short(home)
    kill = ["gpgconf", "--homedir", str(link), "--kill", "gpg-agent"]
    subprocess.run(kill, check=False, capture_output=True)
    link.unlink(missing_ok=True)


def signing_home(keys_dir: Path, name: str) -> Path:
    """The controller's repository key (made once: Ed25519, no expiry, no passphrase)."""
    home = keys_dir / "apt-gnupg"
    if not (home / "pubring.kbx").exists() or not _gpg(home, "--list-secret-keys").strip():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(home, 0o700)
        _gpg(
            home,
            "--passphrase",
            "",
            "--quick-gen-key",
            f"loaxa apt repository ({name})",
            "ed25519",
            "sign",
            "never",
        )
    return home


def publish(debs: list[Path], repo: Path, keys_dir: Path, name: str) -> Path:
    """Add `debs` to the pool of `repo`, write and sign its indexes; returns the public key file."""
    home = signing_home(keys_dir, name)
    try:
        return _publish(debs, repo, home, name)
    finally:
        _stop_agent(home)


def _publish(debs: list[Path], repo: Path, home: Path, name: str) -> Path:
    pool = repo / "pool" / COMPONENT
    pool.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        shutil.copyfile(deb, pool / deb.name)
    dist = repo / "dists" / SUITE
    binary = dist / COMPONENT / "binary-all"
    binary.mkdir(parents=True, exist_ok=True)
    packages = _run(["apt-ftparchive", "packages", f"pool/{COMPONENT}"], cwd=repo)
    (binary / "Packages").write_text(packages, encoding="utf-8")
    (binary / "Packages.gz").write_bytes(gzip.compress(packages.encode(), mtime=0))
    options = [
        f"-oAPT::FTPArchive::Release::{field}={value}"
        for field, value in (
            ("Origin", "loaxa"),
            ("Label", f"loaxa {name}"),
            ("Suite", SUITE),
            ("Codename", SUITE),
            ("Architectures", "all"),  # apt on any Pi takes binary-all (and notes that it skips its own)
            ("Components", COMPONENT),
        )
    ]
    release = _run(["apt-ftparchive", *options, "release", "."], cwd=dist)
    (dist / "Release").write_text(release, encoding="utf-8")
    _gpg(home, "--clearsign", "-o", str(dist / "InRelease"), str(dist / "Release"))
    _gpg(home, "--detach-sign", "-o", str(dist / "Release.gpg"), str(dist / "Release"))
    keyring = repo / KEYRING
    _gpg(home, "--export", "-o", str(keyring))
    return keyring


def repository_dir(settings: Settings) -> Path:
    """Where the repository lives (served at /apt/)."""
    return settings.data_dir / "apt"


def _stanzas(repo: Path) -> list[dict[str, str]]:
    """The signed index's package entries (binary-all), as field → value."""
    index = repo / "dists" / SUITE / COMPONENT / "binary-all" / "Packages"
    text = index.read_text(encoding="utf-8") if index.is_file() else ""
    return [
        dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line.startswith(" "))
        for stanza in text.split("\n\n")
        if stanza.strip()
    ]


def published_versions(repo: Path, package: str) -> list[str]:
    """The versions of `package` the repository lists, in the index's order."""
    return [f["Version"] for f in _stanzas(repo) if f.get("Package") == package and "Version" in f]


def published_sha256(repo: Path, package: str, version: str) -> str:
    """The SHA-256 of `package` `version` as the signed index lists it, checked against the pool's file.

    Raises RepositoryError when the version is not published or the pool's file differs from the index
    (then apt on the Pis would refuse it too).
    """
    for fields in _stanzas(repo):
        if fields.get("Package") != package or fields.get("Version") != version:
            continue
        listed, pool_file = fields.get("SHA256", ""), repo / fields.get("Filename", "")
        actual = hashlib.sha256(pool_file.read_bytes()).hexdigest() if pool_file.is_file() else ""
        if actual != listed:
            raise RepositoryError(
                f"tệp {pool_file.name} trong kho apt không khớp chỉ mục (SHA-256 {actual or 'không có'}); "
                "hãy đăng lại gói bằng: loaxa apt publish"
            )
        return listed
    raise RepositoryError(
        f"kho apt của bộ điều khiển chưa có {package} {version}; hãy đăng gói trước: loaxa apt publish "
        f"dist/{package}_{version}_all.deb"
    )
