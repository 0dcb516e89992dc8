"""Asset downloads into the local cache: HTTP GET with Range resume, size and sha256 checks, atomic rename.

Owns the cache directory layout (``cache/<sha256>.mp3`` and ``cache/partial/<sha256>.part``) and the
download worker thread. It must not touch MQTT or the schedule; it reports each outcome through a callback.
"""

import errno
import hashlib
import logging
import os
import queue
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from edge_agent.clock import Clock, SystemClock
from protocol import Asset

log = logging.getLogger(__name__)
_CHUNK: Final = 64 * 1024
_TIMEOUT_S: Final = 30.0
# After an asset failed every attempt, it is asked for again no sooner than this, doubling up to the cap.
_COOLDOWN_S: Final = 60.0
_COOLDOWN_MAX_S: Final = 1800.0


class DownloadError(Exception):
    """A download attempt failed; `reason` names it for the `asset_failed` event."""

    def __init__(self, reason: str, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.permanent = permanent


def asset_path(cache_dir: Path, sha256: str) -> Path:
    """Where a verified asset lives in the cache."""
    return cache_dir / f"{sha256}.mp3"


def partial_path(cache_dir: Path, sha256: str) -> Path:
    """Where an unfinished download of an asset is kept for a Range resume."""
    return cache_dir / "partial" / f"{sha256}.part"


def _hash_into(digest: "hashlib._Hash", path: Path) -> None:
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    _hash_into(digest, path)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _receive(asset: Asset, part: Path, have: int, timeout: float) -> str:
    """GET the asset (from byte `have` on when resuming) into the partial file; the file's sha256.

    The bytes are hashed as they are written (a resumed file's first part is read once): reading the
    file back afterwards would read the page cache, not the SD card, so it would catch nothing more and
    cost a Pi a second pass over every byte.
    """
    headers = {"Range": f"bytes={have}-"} if have else {}
    request = urllib.request.Request(asset.url, headers=headers)  # noqa: S310 - scheme checked by fetch()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            resumed = have > 0 and response.status == 206
            if have and not resumed:
                log.info("server ignored the Range request for %s; downloading from the start", asset.sha256)
            written = have if resumed else 0
            digest = hashlib.sha256()
            if resumed:
                _hash_into(digest, part)
            with part.open("ab" if resumed else "wb") as out:
                while chunk := response.read(_CHUNK):
                    written += len(chunk)
                    if written > asset.bytes:
                        raise DownloadError("size_mismatch", f"server sent more than {asset.bytes} bytes")
                    out.write(chunk)
                    digest.update(chunk)
                out.flush()
                os.fsync(out.fileno())
            return digest.hexdigest()
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416:
            part.unlink(missing_ok=True)
            raise DownloadError("http_416", "range not satisfiable; restarting from the beginning") from exc
        raise DownloadError(
            f"http_{exc.code}", f"HTTP {exc.code} for the asset", permanent=exc.code < 500
        ) from exc
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            # Give the space back at once: the state database and the event outbox need it more.
            part.unlink(missing_ok=True)
            raise DownloadError(
                "disk", f"no space left for the asset ({asset.bytes} bytes): {exc}", permanent=True
            ) from exc
        raise DownloadError("network", f"download interrupted: {exc}") from exc


def fetch(asset: Asset, cache_dir: Path, *, timeout: float = _TIMEOUT_S) -> Path:
    """Download one asset into the cache (resuming a partial file) and return its verified path."""
    final = asset_path(cache_dir, asset.sha256)
    if final.exists():
        return final
    if urlsplit(asset.url).scheme not in ("http", "https"):
        raise DownloadError("bad_url", f"asset URL must be http(s): {asset.url[:80]!r}", permanent=True)
    part = partial_path(cache_dir, asset.sha256)
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    if have > asset.bytes:
        part.unlink()
        have = 0
    digest = _receive(asset, part, have, timeout) if have < asset.bytes else _sha256_of(part)
    size = part.stat().st_size
    if size != asset.bytes:
        if size > asset.bytes:
            part.unlink()
        raise DownloadError("size_mismatch", f"got {size} bytes, the plan says {asset.bytes}")
    if digest != asset.sha256:
        part.unlink()
        raise DownloadError("sha256_mismatch", f"content hashes to {digest}, the plan says {asset.sha256}")
    os.replace(part, final)
    _fsync_dir(cache_dir)
    return final


DoneCallback = Callable[[Asset, Path | None, str | None], None]


class Downloader:
    """One worker thread that fetches queued assets with retries and exponential backoff."""

    def __init__(
        self,
        cache_dir: Path,
        on_done: DoneCallback,
        *,
        attempts: int = 5,
        backoff_s: float = 2.0,
        clock: Clock | None = None,
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._cache_dir = cache_dir
        self._on_done = on_done
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._queue: queue.Queue[Asset | None] = queue.Queue()
        self._pending: set[str] = set()
        self._cooldown: dict[str, tuple[float, float]] = {}  # sha256 → (not before, last pause)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loaxa-downloader", daemon=True)

    def start(self) -> None:
        """Start the worker thread."""
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current attempt (a partial file stays for the next run)."""
        self._stopping.set()
        self._queue.put(None)
        self._thread.join(timeout=_TIMEOUT_S + 5)

    def request(self, asset: Asset) -> bool:
        """Queue an asset unless it is queued or cooling down after failing; True when queued now."""
        with self._lock:
            not_before = self._cooldown.get(asset.sha256, (0.0, 0.0))[0]
            if asset.sha256 in self._pending or self._clock.monotonic() < not_before:
                return False
            self._pending.add(asset.sha256)
        self._queue.put(asset)
        return True

    def forget_failures(self) -> None:
        """Let failed assets be fetched again at once (a new plan may carry fresh URLs)."""
        with self._lock:
            self._cooldown.clear()

    def _run(self) -> None:
        while not self._stopping.is_set():
            asset = self._queue.get()
            if asset is None:
                return
            path, reason = self._fetch_with_retries(asset)
            with self._lock:
                self._pending.discard(asset.sha256)
                if path is None:
                    pause = min(
                        _COOLDOWN_MAX_S, 2 * self._cooldown.get(asset.sha256, (0.0, _COOLDOWN_S / 2))[1]
                    )
                    self._cooldown[asset.sha256] = (self._clock.monotonic() + pause, pause)
                else:
                    self._cooldown.pop(asset.sha256, None)
            if not self._stopping.is_set():
                self._on_done(asset, path, reason)

    def _fetch_with_retries(self, asset: Asset) -> tuple[Path | None, str | None]:
        reason = "stopped"
        for attempt in range(self._attempts):
            try:
                return fetch(asset, self._cache_dir), None
            except DownloadError as exc:
                reason = exc.reason
                log.warning(
                    "asset %s attempt %s/%s failed: %s", asset.sha256[:12], attempt + 1, self._attempts, exc
                )
                if exc.permanent or attempt + 1 == self._attempts:
                    break
            except OSError as exc:
                reason = "disk"
                log.error("asset %s cannot be written to the cache: %s", asset.sha256[:12], exc)
                break
            # ±50 % at random: agents whose downloads failed together (a starved server) retry apart.
            pause = self._backoff_s * 2**attempt * random.uniform(0.5, 1.5)  # noqa: S311 - not secrecy
            if self._stopping.wait(pause):
                break
        return None, reason


def evict(cache_dir: Path, assets: list[tuple[str, int]], keep: set[str], limit_bytes: int) -> list[str]:
    """Delete least-recently-used cached assets not in `keep` until under the limit; return their sha256."""
    total = sum(size for _, size in assets)
    removed = []
    for sha, size in assets:
        if total <= limit_bytes:
            break
        if sha in keep:
            continue
        asset_path(cache_dir, sha).unlink(missing_ok=True)
        total -= size
        removed.append(sha)
    return removed


def sweep(cache_dir: Path, indexed: set[str], wanted: set[str]) -> list[Path]:
    """Delete cache files left behind by a kill -9 or an old plan; return what was deleted.

    Kept: assets that are indexed or wanted, and partial downloads of wanted assets (they resume).
    """
    removed = []
    for path in [*cache_dir.glob("*.mp3"), *cache_dir.glob("partial/*.part")]:
        sha = path.name.split(".", 1)[0]
        keep = sha in wanted or (path.suffix == ".mp3" and sha in indexed)
        if not keep:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
