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
            f"Ngôn ngữ {language[:40]!r} không hợp lệ: hãy dùng mã ngắn viết thường "
            "(ví dụ: vi, thai, mong, dao)."
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
            f"Tệp ghi âm nặng {size / 1e6:.1f} MB; giới hạn là {max_bytes / 1e6:.0f} MB. "
            "Hãy xuất ra MP3 (64–128 kbit/s) hoặc cắt ngắn."
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
            f"Bản ghi dài hơn {max_duration_s} giây, quá giới hạn. Hãy cắt ngắn hoặc chia thành hai bản tin."
        )
    if length_ms < MIN_RECORDING_MS:
        raise RecordingRejected(
            f"Bản ghi chỉ dài {length_ms} ms; hãy ghi trọn thông báo (ít nhất {MIN_RECORDING_MS} ms)."
        )
    try:
        samples = audio.decode_file(decoded)
        level = loudness.integrated_lufs(samples, audio.SAMPLE_RATE)
    except AudioProcessingError as error:
        raise _unreadable(error) from None
    if level <= SILENCE_LUFS:
        raise RecordingRejected(
            f"Bản ghi không có tiếng (độ lớn {level:.0f} LUFS). Hãy kiểm tra micrô rồi ghi lại."
        )
    return samples


def _unreadable(error: Exception) -> RecordingRejected:
    log.warning("upload refused: not readable as audio: %s", error)
    return RecordingRejected(
        "Tệp tải lên không đọc được thành âm thanh. Hãy tải lên tệp MP3, WAV, M4A, OGG hoặc WebM "
        "ghi âm trực tiếp (không phải danh sách phát hay đường dẫn)."
    )
