"""Asking ffprobe whether a stream URL answers with audio, within a bounded time.

Owns the probe and its Vietnamese warnings ("không có âm thanh", "không kết nối được"). A failed probe is
a warning for the operator, never a refusal: a station may be off the air at the moment it is added. Must
not read or write the database.
"""

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

PROBE_TIMEOUT_S: Final = 6.0
_NOT_AUDIO: Final = "trả lời nhưng không có âm thanh; hãy dùng địa chỉ phát MP3, AAC hoặc HLS"


@dataclass(frozen=True)
class ProbeResult:
    """What ffprobe found at one URL: an audio codec, or a warning a person can act on."""

    url: str
    codec: str | None
    warning: str | None


def _warning(url: str, problem: str) -> ProbeResult:
    return ProbeResult(url, None, f"{url[:120]}: {problem}")


def probe_url(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """Run ffprobe on `url` for at most `timeout_s` seconds."""
    command = [
        "ffprobe", "-v", "error", "-rw_timeout", str(int(timeout_s * 1_000_000)),
        "-show_entries", "stream=codec_type,codec_name", "-of", "json", url,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s + 2, check=False)
    except subprocess.TimeoutExpired:
        return _warning(
            url, f"không trả lời trong {timeout_s:.0f} giây; hãy kiểm tra địa chỉ hoặc thử lại sau"
        )
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["?"])[-1][:160]
        if "Invalid data found" in reason:  # it answered, with something that is not a stream
            return _warning(url, _NOT_AUDIO)
        return _warning(url, f"không kết nối được ({reason}); hãy kiểm tra địa chỉ hoặc thử lại sau")
    try:
        streams = json.loads(done.stdout or "{}").get("streams", [])
    except json.JSONDecodeError:
        streams = []
    codecs = [s.get("codec_name") for s in streams if s.get("codec_type") == "audio"]
    if not codecs:
        return _warning(url, _NOT_AUDIO)
    return ProbeResult(url, str(codecs[0]), None)


def probe_urls(urls: list[str] | tuple[str, ...], timeout_s: float = PROBE_TIMEOUT_S) -> list[ProbeResult]:
    """Probe every URL at once (the whole probe takes about the slowest one), in the order given."""
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(lambda url: probe_url(url, timeout_s), urls))
