"""The render cache index: cache key → the asset a render produced (small JSON files beside the store).

Owns `<store root>/renders/<key>.json`; it must not touch the assets themselves. Writes are atomic, so a
crash leaves either no entry or a whole one; an entry whose asset is gone counts as a miss.
"""

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from controller.assets import AssetStore


@dataclass(frozen=True)
class CachedRender:
    """What a finished render produced, enough to answer again without synthesizing."""

    sha256: str
    bytes: int
    duration_ms: int
    engine: str
    voice: str
    normalized_text: str  # what a text render reads, shown by the preview; "" for recordings


def cache_key(**parts: object) -> str:
    """sha256 of the canonical JSON of everything that shapes the audio (engine, voice, settings, text)."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class RenderCache:
    """Cache entries stored next to the asset store they point into."""

    def __init__(self, store: AssetStore) -> None:
        self.store = store
        self.root = store.root / "renders"

    def get(self, key: str) -> CachedRender | None:
        """The cached render for `key`, or None when absent, unreadable or its asset is gone."""
        try:
            entry = CachedRender(**json.loads((self.root / f"{key}.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None
        return entry if self.store.exists(entry.sha256) else None

    def put(self, key: str, entry: CachedRender) -> None:
        """Record a finished render under `key`."""
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=self.root, prefix=".incoming-", delete=False) as temp:
            json.dump(asdict(entry), temp)
            temp.flush()
            os.fsync(temp.fileno())
        Path(temp.name).replace(self.root / f"{key}.json")
