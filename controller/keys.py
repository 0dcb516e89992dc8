"""The controller's secrets on disk: the Ed25519 plan-signing key, the URL secret, the broker password.

Each is created on first use with mode 0600 inside a 0700 directory and never logged. Rotating the
signing key is documented in docs/operations.md: agents accept a list of public keys.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.signing import generate_private_key, load_private_key, private_key_pem, public_key_b64


def _create_private(path: Path, data: bytes) -> None:
    """Create a file only this user can read, failing if it already exists (no silent overwrite)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class KeyRing:
    """The controller's long-lived secrets."""

    signing_key: Ed25519PrivateKey
    url_secret: bytes
    broker_password: str

    @property
    def public_key_b64(self) -> str:
        """The public half of the signing key, as agents hold it in agent.toml."""
        return public_key_b64(self.signing_key.public_key())


def load_or_create_keys(keys_dir: Path) -> KeyRing:
    """Load the key ring from `keys_dir`, creating any missing secret."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    keys_dir.chmod(0o700)
    signing_path = keys_dir / "signing-ed25519.pem"
    if not signing_path.exists():
        _create_private(signing_path, private_key_pem(generate_private_key()))
    secret_path = keys_dir / "url-secret"
    if not secret_path.exists():
        _create_private(secret_path, secrets.token_bytes(32))
    broker_path = keys_dir / "broker-controller-password"
    if not broker_path.exists():
        _create_private(broker_path, secrets.token_urlsafe(32).encode())
    return KeyRing(
        signing_key=load_private_key(signing_path),
        url_secret=secret_path.read_bytes(),
        broker_password=broker_path.read_text().strip(),
    )
