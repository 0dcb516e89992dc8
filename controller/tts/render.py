"""Public entry points of text to speech: bulletin text or a recording → a stored broadcast MP3 (DESIGN §6).

Owns the order of the steps (normalize → cache → engine chain → pauses and chimes → loudness → store) and
the checks on uploaded recordings; the steps themselves live in `normalize`, `engines` and `audio`. It
writes only through the AssetStore and the render cache.
"""

import hashlib
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from controller.assets import AssetStore
from controller.config import TtsSettings
from controller.tts import audio
from controller.tts.cache import CachedRender, RenderCache, cache_key
from controller.tts.engines import Synthesizer, build_engines, speak_with
from controller.tts.errors import (
    AudioProcessingError,
    EngineUnavailable,
    NoEngineAvailable,
    RecordingRejected,
)
from controller.tts.lexicon import Lexicon
from controller.tts.normalize import normalize_text

log = logging.getLogger(__name__)

RENDER_VERSION = 1  # bump when the audio pipeline changes, so old cache entries are not reused
SILENCE_LUFS = -60.0
MAX_RECORDING_S = 600


@dataclass(frozen=True)
class RenderOptions:
    """How a bulletin is assembled; every field is part of the cache key."""

    pause_ms: int = 400
    intro_chime: bool = True
    outro_chime: bool = True
    bitrate_kbps: int = 64


@dataclass(frozen=True)
class RenderResult:
    """A stored broadcast asset: its sha256 and size (`bytes`, as in plan items), length and origin."""

    sha256: str
    bytes: int
    duration_ms: int
    engine: str
    voice: str
    normalized_text: str
    from_cache: bool


def render_text(
    text: str,
    settings: TtsSettings,
    store: AssetStore,
    *,
    options: RenderOptions = RenderOptions(),  # frozen, so one shared default is safe
    engines: Sequence[Synthesizer] | None = None,
    lexicon: Lexicon | None = None,
) -> RenderResult:
    """Normalize, synthesize (engine chain in `settings.engines` order, cache first), assemble and store."""
    normalized = normalize_text(text, lexicon)
    cache = RenderCache(store)
    reasons: list[str] = []
    for engine in engines if engines is not None else build_engines(settings):
        key = cache_key(
            version=RENDER_VERSION,
            engine=engine.name,
            voice=engine.voice,
            options=asdict(options),
            text=normalized.text,
        )
        hit = cache.get(key)
        if hit is not None:
            log.info("tts cache hit %s engine %s", hit.sha256, hit.engine)
            return _result(hit, normalized.text, from_cache=True)
        try:
            spoken = speak_with(engine, normalized.sentences)
        except EngineUnavailable as error:
            log.warning("tts engine %s unavailable, trying the next: %s", engine.name, error)
            reasons.append(f"{engine.name}: {error}")
            continue
        speech = audio.join([audio.decode(clip) for clip in spoken.clips], options.pause_ms)
        speech = audio.with_chimes(speech, intro=options.intro_chime, outro=options.outro_chime)
        with tempfile.TemporaryDirectory(prefix="loaxa-render-") as tmp:
            source = Path(tmp) / "speech.wav"
            speech.export(source, format="wav").close()  # pydub returns the file it left open
            entry = _store(
                audio.loudness_to_mp3(source, options.bitrate_kbps), spoken.engine, spoken.voice, store
            )
        cache.put(key, entry)
        log.info("tts rendered %s engine %s (%s ms)", entry.sha256, entry.engine, entry.duration_ms)
        return _result(entry, normalized.text, from_cache=False)
    raise NoEngineAvailable(
        "No text-to-speech engine could read the bulletin: " + ("; ".join(reasons) or "none")
    )


def render_recording(
    data: bytes | Path,
    language: str,
    store: AssetStore,
    *,
    bitrate_kbps: int = 64,
    max_duration_s: int = MAX_RECORDING_S,
) -> RenderResult:
    """Bring a recording (any format ffmpeg reads) to broadcast loudness and format, and store it."""
    raw = data if isinstance(data, bytes) else data.read_bytes()
    cache = RenderCache(store)
    key = cache_key(
        version=RENDER_VERSION,
        engine="recording",
        voice=language,
        bitrate=bitrate_kbps,
        data=hashlib.sha256(raw).hexdigest(),
    )
    hit = cache.get(key)
    if hit is not None:
        return _result(hit, "", from_cache=True)
    with tempfile.NamedTemporaryFile(prefix="loaxa-upload-") as upload:
        upload.write(raw)
        upload.flush()
        _check_recording(Path(upload.name), max_duration_s)
        entry = _store(audio.loudness_to_mp3(Path(upload.name), bitrate_kbps), "recording", language, store)
    cache.put(key, entry)
    log.info("recording stored %s language %s (%s ms)", entry.sha256, language, entry.duration_ms)
    return _result(entry, "", from_cache=False)


def _check_recording(path: Path, max_duration_s: int) -> None:
    """Reject files ffmpeg cannot read, longer than the limit, or silent."""
    try:
        length_ms = audio.file_duration_ms(path)
        loudness = audio.measure_file(path)
    except (AudioProcessingError, KeyError, ValueError) as error:
        raise RecordingRejected(
            f"The recording cannot be read as audio ({error}). Upload an MP3, WAV, M4A or OGG file."
        ) from error
    if length_ms > max_duration_s * 1000:
        raise RecordingRejected(
            f"The recording lasts {length_ms / 1000:.0f} s; the limit is {max_duration_s} s. "
            "Shorten it or split it into two bulletins."
        )
    if loudness.integrated_lufs <= SILENCE_LUFS:
        raise RecordingRejected(
            f"The recording is silent (loudness {loudness.integrated_lufs} LUFS). "
            "Check the microphone and record again."
        )


def _store(mp3: bytes, engine: str, voice: str, store: AssetStore) -> CachedRender:
    return CachedRender(store.put(mp3), len(mp3), audio.duration_ms(mp3), engine, voice)


def _result(entry: CachedRender, normalized_text: str, *, from_cache: bool) -> RenderResult:
    return RenderResult(
        entry.sha256, entry.bytes, entry.duration_ms, entry.engine, entry.voice, normalized_text, from_cache
    )
