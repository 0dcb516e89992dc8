"""Recorded or uploaded audio → a stored broadcast MP3, through the same loudness and encode steps.

Owns the checks on recordings (size, language tag, readable, length, silence) and their cache entries;
loudness and encoding are `audio`'s. It writes only through the AssetStore and the render cache.
"""

import hashlib
import logging
import re
import tempfile
import unicodedata
from pathlib import Path

from controller.assets import AssetStore
from controller.tts import audio, loudness
from controller.tts.cache import RenderCache, cache_key
from controller.tts.errors import AudioProcessingError, RecordingRejected
from controller.tts.loudness import Samples
from controller.tts.render import RENDER_VERSION, RenderResult, result_of, store_mp3

log = logging.getLogger(__name__)

SILENCE_LUFS = -60.0
MAX_RECORDING_S = 600
MIN_RECORDING_MS = 500
MAX_RECORDING_BYTES = 25 * 1024 * 1024  # the web layer's upload ceiling
_LANGUAGE = re.compile(r"[a-z]{2,8}(?:-[a-z0-9]{1,8})*")  # as villages' languages are written
_ALIASES = {"hmong": "mong", "h'mong": "mong", "hmn": "mong", "tai": "thai", "viet": "vi"}


def language_tag(language: str) -> str:
    """The tag villages use for a language ("Thái" → "thai", "H'Mông" → "mong"), or RecordingRejected."""
    bare = "".join(
        ch
        for ch in unicodedata.normalize("NFD", language.strip().lower())
        if unicodedata.category(ch) != "Mn"
    ).replace("đ", "d")
    tag = _ALIASES.get(bare, bare)
    if not _LANGUAGE.fullmatch(tag):
        raise RecordingRejected(
            f"The language {language!r} is not a valid tag: "
            "use a short lowercase tag such as vi, thai, mong, dao."
        )
    return tag


def render_recording(
    data: bytes | Path,
    language: str,
    store: AssetStore,
    *,
    bitrate_kbps: int = 64,
    max_duration_s: int = MAX_RECORDING_S,
    max_bytes: int = MAX_RECORDING_BYTES,
) -> RenderResult:
    """Bring a recording (any format ffmpeg reads) to broadcast loudness and format, and store it."""
    tag = language_tag(language)
    size = len(data) if isinstance(data, bytes) else data.stat().st_size
    if size > max_bytes:
        raise RecordingRejected(
            f"The recording has {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
            "Export it as MP3 (64–128 kbit/s) or shorten it."
        )
    raw = data if isinstance(data, bytes) else data.read_bytes()
    cache = RenderCache(store)
    key = cache_key(
        version=RENDER_VERSION,
        engine="recording",
        voice=tag,
        bitrate=bitrate_kbps,
        data=hashlib.sha256(raw).hexdigest(),
    )
    hit = cache.get(key)
    if hit is not None:
        return result_of(hit, from_cache=True)
    with tempfile.NamedTemporaryFile(prefix="loaxa-upload-") as upload:
        upload.write(raw)
        upload.flush()
        samples = _checked_samples(Path(upload.name), max_duration_s)
    entry = store_mp3(audio.broadcast_mp3(samples, bitrate_kbps), "recording", tag, store, "")
    cache.put(key, entry)
    log.info("recording stored %s language %s (%s ms)", entry.sha256, tag, entry.duration_ms)
    return result_of(entry, from_cache=False)


def _checked_samples(path: Path, max_duration_s: int) -> Samples:
    """The recording's samples; RecordingRejected when ffmpeg cannot read it, too short or long, or silent."""
    try:
        length_ms = audio.file_duration_ms(path)
    except (AudioProcessingError, KeyError, ValueError) as error:
        raise _unreadable(error) from error
    if length_ms > max_duration_s * 1000:
        raise RecordingRejected(
            f"The recording lasts {length_ms / 1000:.0f} s; the limit is {max_duration_s} s. "
            "Shorten it or split it into two bulletins."
        )
    if length_ms < MIN_RECORDING_MS:
        raise RecordingRejected(
            f"The recording lasts only {length_ms} ms; record the whole message (at least a second)."
        )
    try:
        samples = audio.decode_file(path)
        level = loudness.integrated_lufs(samples, audio.SAMPLE_RATE)
    except AudioProcessingError as error:
        raise _unreadable(error) from error
    if level <= SILENCE_LUFS:
        raise RecordingRejected(
            f"The recording is silent (loudness {level} LUFS). Check the microphone and record again."
        )
    return samples


def _unreadable(error: Exception) -> RecordingRejected:
    return RecordingRejected(
        f"The recording cannot be read as audio ({error}). Upload an MP3, WAV, M4A or OGG file."
    )
