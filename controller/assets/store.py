"""The content-addressed asset store: files named by the sha256 of their bytes, in sharded folders.

Owns the files under its root (ab/abcdef….mp3 and its own temporary files); it must not know what the
audio is or who asked for it. Writes are atomic (temporary file, fsync, rename), so a reader never sees a
partial file, and idempotent: storing the same bytes twice keeps one file.
"""

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class InvalidAssetId(ValueError):
    """The string is not a lowercase hex sha256, so it cannot name an asset."""


def is_sha256(value: str) -> bool:
    """True for a lowercase hex sha256 (64 characters)."""
    return bool(_SHA256.fullmatch(value))


class AssetStore:
    """Files under `root`, named by their sha256: `root/ab/abcdef….mp3`."""

    def __init__(self, root: Path, suffix: str = ".mp3") -> None:
        self.root = root
        self.suffix = suffix

    def path(self, sha256: str) -> Path:
        """Where the asset with this sha256 lives (whether or not it exists yet)."""
        if not is_sha256(sha256):
            raise InvalidAssetId(f"{sha256!r} is not an asset id (64 lowercase hex characters)")
        return self.root / sha256[:2] / f"{sha256}{self.suffix}"

    def exists(self, sha256: str) -> bool:
        """True when the asset is stored."""
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored asset for reading; FileNotFoundError when it is not stored."""
        return self.path(sha256).open("rb")

    def size(self, sha256: str) -> int:
        """The asset's size in bytes."""
        return self.path(sha256).stat().st_size

    def put(self, data: bytes | Path) -> str:
        """Store bytes (or a file's contents, copied) atomically and return their sha256."""
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".incoming-", delete=False) as temp:
            digest = hashlib.sha256()
            try:
                if isinstance(data, bytes):
                    digest.update(data)
                    temp.write(data)
                else:
                    with data.open("rb") as source:
                        while chunk := source.read(_CHUNK):
                            digest.update(chunk)
                            temp.write(chunk)
                temp.flush()
                os.fsync(temp.fileno())
            except BaseException:
                Path(temp.name).unlink(missing_ok=True)
                raise
        sha256 = digest.hexdigest()
        self._settle(Path(temp.name), sha256)
        return sha256

    def _settle(self, temp: Path, sha256: str) -> None:
        """Rename the finished temporary file into place (or drop it when the asset is already there)."""
        final = self.path(sha256)
        if final.is_file():
            temp.unlink()
            return
        final.parent.mkdir(exist_ok=True)
        temp.replace(final)  # same file system: the temporary file lives under root
        _fsync_dir(final.parent)
        log.info("asset stored %s (%s bytes)", sha256, final.stat().st_size)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX: fsync the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
