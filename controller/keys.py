"""The controller's secrets on disk: the Ed25519 plan-signing key, the URL secret, the broker password.

Each is created on first use with mode 0600 inside a 0700 directory and never logged. The signing key
rotates in two steps (docs/operations.md): `stage` makes the next key and lists its public half so new
agent bundles carry it; `rotate` makes it the signer and keeps the old public half listed
(`retired-public-keys`) so agents holding [old, new] accept plans signed by either.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.signing import generate_private_key, load_private_key, private_key_pem, public_key_b64

SIGNING_KEY = "signing-ed25519.pem"
NEXT_SIGNING_KEY = "signing-ed25519.next.pem"
RETIRED_PUBLIC_KEYS = "retired-public-keys"


def _create_private(path: Path, data: bytes) -> None:
    """Create a file only this user can read, failing if it already exists (no silent overwrite)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _replace_private(path: Path, data: bytes) -> None:
    """Write a 0600 file atomically: a reader sees the old or the new content, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    _create_private(tmp, data)
    os.replace(tmp, path)


def _public_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and line[0] != "#"]


@dataclass(frozen=True)
class KeyRing:
    """The controller's long-lived secrets."""

    signing_key: Ed25519PrivateKey
    url_secret: bytes
    broker_password: str
    other_public_keys: tuple[str, ...] = ()  # a staged next key and retired keys, still accepted

    @property
    def public_key_b64(self) -> str:
        """The public half of the signing key, as agents hold it in agent.toml."""
        return public_key_b64(self.signing_key.public_key())

    @property
    def public_keys_b64(self) -> tuple[str, ...]:
        """Every key an agent should accept, the signer first: what agent bundles carry."""
        return tuple(dict.fromkeys((self.public_key_b64, *self.other_public_keys)))


def load_or_create_keys(keys_dir: Path) -> KeyRing:
    """Load the key ring from `keys_dir`, creating any missing secret."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    keys_dir.chmod(0o700)
    signing_path = keys_dir / SIGNING_KEY
    if not signing_path.exists():
        _create_private(signing_path, private_key_pem(generate_private_key()))
    secret_path = keys_dir / "url-secret"
    if not secret_path.exists():
        _create_private(secret_path, secrets.token_bytes(32))
    broker_path = keys_dir / "broker-controller-password"
    if not broker_path.exists():
        _create_private(broker_path, secrets.token_urlsafe(32).encode())
    staged = keys_dir / NEXT_SIGNING_KEY
    others = [public_key_b64(load_private_key(staged).public_key())] if staged.exists() else []
    return KeyRing(
        signing_key=load_private_key(signing_path),
        url_secret=secret_path.read_bytes(),
        broker_password=broker_path.read_text().strip(),
        other_public_keys=(*others, *_public_lines(keys_dir / RETIRED_PUBLIC_KEYS)),
    )


def stage_next_key(keys_dir: Path) -> KeyRing:
    """Create the next signing key without using it yet; its public half is listed from now on."""
    load_or_create_keys(keys_dir)
    staged = keys_dir / NEXT_SIGNING_KEY
    if staged.exists():
        raise FileExistsError(
            f"a next key is already staged ({staged}); run `loaxa keys rotate` to make it the signer"
        )
    _create_private(staged, private_key_pem(generate_private_key()))
    return load_or_create_keys(keys_dir)


def rotate_signing_key(keys_dir: Path) -> KeyRing:
    """Make the staged key (or a fresh one) the signer; the old public key stays listed as retired."""
    old = load_or_create_keys(keys_dir)
    staged = keys_dir / NEXT_SIGNING_KEY
    new_pem = staged.read_bytes() if staged.exists() else private_key_pem(generate_private_key())
    retired = [old.public_key_b64, *_public_lines(keys_dir / RETIRED_PUBLIC_KEYS)]
    _replace_private(keys_dir / RETIRED_PUBLIC_KEYS, ("\n".join(dict.fromkeys(retired)) + "\n").encode())
    _replace_private(keys_dir / SIGNING_KEY, new_pem)
    staged.unlink(missing_ok=True)
    return load_or_create_keys(keys_dir)
