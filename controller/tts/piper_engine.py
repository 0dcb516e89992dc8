"""Piper, the local neural voice: a voice file (.onnx with its .onnx.json) in, WAV bytes out.

Owns loading Piper voices (once per file, kept in memory) and running them; it must not download voices
(that is `voices`) nor touch the asset store. One voice is not safe to run from several threads at once
(its phonemizer is espeak-ng's C library), so sentences of one voice are synthesized one at a time.
"""

import io
import json
import logging
import threading
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from controller.tts.errors import EngineUnavailable

log = logging.getLogger(__name__)
_load_lock = threading.Lock()


@dataclass(frozen=True)
class Piper:
    """A Piper voice file; `voice` is its name (e.g. "vi_VN-vais1000-medium")."""

    model: Path
    name: str = "piper"

    @property
    def voice(self) -> str:
        """The voice's name: its file name without ".onnx"."""
        return self.model.name.removesuffix(".onnx")

    def synthesize(self, sentence: str) -> bytes:
        """Speak one sentence with this voice and return 16-bit mono WAV bytes."""
        loaded, lock = self._load()
        buffer = io.BytesIO()
        try:
            with lock, wave.open(buffer, "wb") as wav:
                loaded.synthesize_wav(sentence, wav)
        # onnxruntime and the phonemizer raise their own types; any of them means this engine failed.
        except Exception as error:
            raise EngineUnavailable(f"Piper failed with voice {self.voice}: {error}") from error
        data = buffer.getvalue()
        if len(data) <= 44:  # a WAV header and no samples
            raise EngineUnavailable(f"Piper produced no audio for {sentence[:40]!r} with voice {self.voice}")
        return data

    def _load(self) -> tuple[Any, threading.Lock]:
        if not self.model.is_file():
            raise EngineUnavailable(
                f"Piper voice file {self.model} is missing: run `loaxa voices install "
                f"{self.voice}` or set LOAXA_TTS_PIPER_VOICE to an installed .onnx file"
            )
        config = Path(f"{self.model}.json")
        if not config.is_file():
            raise EngineUnavailable(f"Piper voice config {config} is missing; it ships with the .onnx file")
        stat = self.model.stat()
        with _load_lock:
            return _load_voice(self.model.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load_voice(model: Path, _mtime_ns: int, _size: int) -> tuple[Any, threading.Lock]:
    """Load a voice once per file version (the stamp arguments make a replaced file load again)."""
    try:
        from piper import PiperVoice
    except ImportError as error:
        raise EngineUnavailable("Piper is not installed: pip install piper-tts") from error
    language = voice_language(model)
    if not language.lower().startswith("vi"):
        log.warning("piper voice %s speaks %s, not Vietnamese; bulletins will sound foreign", model, language)
    try:
        voice = PiperVoice.load(model)
    except Exception as error:  # a corrupt or foreign .onnx: onnxruntime's own error types
        raise EngineUnavailable(f"Piper cannot load the voice {model}: {error}") from error
    log.info("piper voice %s loaded (%s)", model.name, language)
    return voice, threading.Lock()


def voice_language(model: Path) -> str:
    """The language a voice speaks, from its .onnx.json ("vi_VN", or its espeak voice "vi")."""
    try:
        config = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EngineUnavailable(f"cannot read the Piper voice config {model}.json: {error}") from error
    language = config.get("language", {}).get("code") or config.get("espeak", {}).get("voice")
    return str(language or "unknown")
