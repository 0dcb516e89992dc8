"""The managed Icecast's passwords: created once, random, in a 0600 file in its directory.

Owns `credentials.json` (source, relay and admin passwords, and a per-mount source secret) in the
managed Icecast's directory; it never logs them. Must not write the Icecast configuration
(controller.streaming.icecast_config does).
"""

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

CREDENTIALS_FILE: Final = "credentials.json"
ADMIN_USER: Final = "admin"
SOURCE_USER: Final = "source"  # the user Icecast takes the global and per-mount source passwords with


@dataclass(frozen=True)
class IcecastCredentials:
    """The passwords of one managed Icecast."""

    source_password: str  # any source mount without its own password (loaxa's own tools)
    admin_password: str
    mount_secret: str  # derives each declared source mount's own password

    def mount_password(self, mount: str) -> str:
        """The source password of one declared mount: a live session's sender gets only its own."""
        digest = hmac.new(self.mount_secret.encode(), f"source:{mount}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]


def load_or_create_credentials(directory: Path) -> IcecastCredentials:
    """Read `credentials.json` in `directory`, creating it (0600, random passwords) the first time."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CREDENTIALS_FILE
    if not path.exists():
        data = {name: secrets.token_urlsafe(24) for name in ("source", "admin", "mount_secret")}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
    path.chmod(0o600)
    data = json.loads(path.read_text(encoding="utf-8"))
    return IcecastCredentials(
        source_password=data["source"], admin_password=data["admin"], mount_secret=data["mount_secret"]
    )
