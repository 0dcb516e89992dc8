"""The agent's half of an over-the-air update: the files it shares with the root-side helper.

Owns: writing the update request (for loaxa-agent-update.path, which starts /usr/sbin/loaxa-agent-update
as root) and the health marker (a test tone played while connected to the broker). It must not install
anything itself: the agent runs as the unprivileged user loaxa; the helper installs and rolls back.
"""

import os
from pathlib import Path

REQUEST = "update-request"
MARKER = "health-ok"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="ascii")
    os.replace(partial, path)


def request_update(state_dir: Path, version: str, sha256: str) -> Path:
    """Ask the root-side helper to install loaxa-agent `version` (its .deb's `sha256` is checked there)."""
    path = state_dir / REQUEST
    _write_atomically(path, f"{version} {sha256}\n")
    return path


def mark_healthy(state_dir: Path, version: str) -> None:
    """Tell the helper this agent reached the broker and played a test tone (so it does not roll back)."""
    _write_atomically(state_dir / MARKER, f"{version}\n")
