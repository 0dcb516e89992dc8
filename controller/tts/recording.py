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
from controller.i18n import Message, format_bytes, format_duration
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
            Message(
                "The language {language} is not valid. Use a short code such as vi, thai, mong or dao.",
                language=repr(language[:40]),
            )
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
            Message(
                "The recording is {size}, more than the {limit} allowed. "
                "Export it as MP3 (64–128 kbit/s) or make it shorter.",
                size=format_bytes(size),
                limit=format_bytes(max_bytes),
            )
        )
    raw = data if isinstance(data, bytes) else data.read_bytes()
    cache = RenderCache(store)
    key = cache_key(
        version=RENDER_VERSION,
        engine="recording",
        voice=tag,
        bitrate=bitrate_kbps,
        data=hashlib.sha256(raw).hexdigest(),
        # Entries from before uploads were decoded by the allow-listed demuxers only may hold audio that a
        # playlist pulled from elsewhere (issue 20): never reuse them.
        decoder="upload-allow-list",
    )
    hit = cache.get(key)
    if hit is not None:
        return result_of(hit, from_cache=True)
    with tempfile.TemporaryDirectory(prefix="loaxa-upload-") as tmp:
        upload, decoded = Path(tmp) / "upload", Path(tmp) / "decoded.wav"
        upload.write_bytes(raw)
        samples = _checked_samples(upload, decoded, max_duration_s)
    entry = store_mp3(audio.broadcast_mp3(samples, bitrate_kbps), "recording", tag, store, "")
    cache.put(key, entry)
    log.info("recording stored %s language %s (%s ms)", entry.sha256, tag, entry.duration_ms)
    return result_of(entry, from_cache=False)


def _checked_samples(upload: Path, decoded: Path, max_duration_s: int) -> Samples:
    """Decode the upload safely and return its samples; refuse unreadable, too short or long, silent audio.

    Only an allow-list of audio demuxers reads the upload (a playlist could make ffmpeg read local files);
    every later step reads the decoded WAV. The person sees what to do; ffmpeg's own words (with temporary
    paths) go to the log only.
    """
    try:
        # One second past the limit is enough to tell "too long" apart, without decoding hours of audio.
        audio.decode_upload(upload, decoded, max_duration_s + 1)
        length_ms = audio.file_duration_ms(decoded)
    except (AudioProcessingError, KeyError, ValueError) as error:
        raise _unreadable(error) from None
    if length_ms > max_duration_s * 1000:
        raise RecordingRejected(
            Message(
                "The recording is longer than {limit}. Shorten it or split it into two bulletins.",
                limit=format_duration(max_duration_s),
            )
        )
    if length_ms < MIN_RECORDING_MS:
        raise RecordingRejected(
            Message(
                "The recording is only {length} long. Record the whole announcement (at least 0.5 s).",
                length=f"{length_ms} ms",
            )
        )
    try:
        samples = audio.decode_file(decoded)
        level = loudness.integrated_lufs(samples, audio.SAMPLE_RATE)
    except AudioProcessingError as error:
        raise _unreadable(error) from None
    if level <= SILENCE_LUFS:
        raise RecordingRejected(
            Message(
                "The recording is silent (loudness {level} LUFS). Check the microphone, then record again.",
                level=f"{level:.0f}",
            )
        )
    return samples


def _unreadable(error: Exception) -> RecordingRejected:
    log.warning("upload refused: not readable as audio: %s", error)
    return RecordingRejected(
        Message(
            "The recording cannot be read as audio. Record again, or choose another MP3, WAV, M4A, OGG "
            "or WebM file (a recording itself, not a playlist or a link)."
        )
    )
