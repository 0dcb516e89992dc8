"""`loaxa voices install NAME`: fetch a Piper voice from its official source and verify it.

Owns the catalogue of voices we know (where each file lives, its size and SHA-256) and the verified
download: streamed to a temporary file beside the target, checked, then renamed, so a failed or tampered
download never leaves a file Piper could load. It must not load or run voices (that is `piper_engine`).
"""

import hashlib
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# rhasspy/piper-voices on Hugging Face, pinned to one revision so the checksums below stay true.
HF_BASE = "https://huggingface.co/rhasspy/piper-voices/resolve/c10ece1aade47bb51c153c893d14e5bf8e5b7117"
_CHUNK = 1 << 16


class VoiceInstallError(Exception):
    """A voice could not be installed; the message says why and what to do."""


class UnknownVoice(VoiceInstallError):
    """The name is not in our catalogue of voices with known checksums."""


@dataclass(frozen=True)
class VoiceFile:
    """One voice model: its path under the source, and the size and SHA-256 it must have."""

    path: str
    size: int
    sha256: str


CATALOGUE: dict[str, VoiceFile] = {
    "vi_VN-vais1000-medium": VoiceFile(
        "vi/vi_VN/vais1000/medium/vi_VN-vais1000-medium.onnx",
        63_201_294,
        "ec7c89e2c85f4d1edc24b6120c18aaf1bda614f06b511567eb9c7c0de15e2dab",
    ),
}


def install_voice(
    name: str,
    voices_dir: Path,
    *,
    base_url: str = HF_BASE,
    catalogue: dict[str, VoiceFile] | None = None,
    timeout_s: float = 15.0,
) -> Path:
    """Download voice `name` (model and config) into `voices_dir`, verified; return the .onnx path."""
    known = CATALOGUE if catalogue is None else catalogue
    if name not in known:
        raise UnknownVoice(f"unknown voice {name!r}; known voices: {', '.join(sorted(known))}")
    voice = known[name]
    voices_dir.mkdir(parents=True, exist_ok=True)
    model = voices_dir / f"{name}.onnx"
    if model.is_file() and _digest(model) == (voice.size, voice.sha256) and Path(f"{model}.json").is_file():
        log.info("voice %s is already installed at %s", name, model)
        return model
    url = f"{base_url.rstrip('/')}/{voice.path}"
    _download(f"{url}.json", Path(f"{model}.json"), timeout_s, check=_check_config)
    _download(url, model, timeout_s, check=lambda path: _check_digest(path, voice, url))
    log.info("voice %s installed at %s", name, model)
    return model


def _download(url: str, target: Path, timeout_s: float, *, check: Callable[[Path], None]) -> None:
    """Stream `url` to a temporary file beside `target`, run `check` on it, then move it into place."""
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}-", delete=False) as temp:
        part = Path(temp.name)
        try:
            # S310: the URL is our pinned https source, or a test's local file:// or http:// stand-in.
            with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310
                while chunk := answer.read(_CHUNK):
                    temp.write(chunk)
            temp.flush()
            os.fsync(temp.fileno())
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            part.unlink(missing_ok=True)
            raise VoiceInstallError(
                f"cannot download {url}: {getattr(error, 'reason', error)}; check the network "
                "(Hugging Face must be reachable) or copy the voice files by hand"
            ) from error
    try:
        check(part)
    except VoiceInstallError:
        part.unlink(missing_ok=True)
        raise
    part.replace(target)


def _digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def _check_digest(path: Path, voice: VoiceFile, url: str) -> None:
    size, sha256 = _digest(path)
    if (size, sha256) != (voice.size, voice.sha256):
        raise VoiceInstallError(
            f"{url} is not the expected voice: got {size:,} bytes with SHA-256 {sha256}, expected "
            f"{voice.size:,} bytes with SHA-256 {voice.sha256}; the file was discarded"
        )


def _check_config(path: Path) -> None:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise VoiceInstallError(
            f"the voice config is not valid JSON ({error}); the file was discarded"
        ) from error
    if not isinstance(config, dict) or "phoneme_id_map" not in config:
        raise VoiceInstallError("the voice config has no phoneme_id_map, so it is not a Piper voice config")
