"""Audio plumbing with pydub and ffmpeg: decode, join with pauses and chimes, bring to loudness, encode MP3.

Owns every ffmpeg/ffprobe call of text to speech and the broadcast format (mono MP3, −16 LUFS, true peak
≤ −1.5 dBTP): the steps on the samples are `loudness` (measuring) and `dynamics` (gain, compressor,
limiter); this module orders them around the one encode. It works on bytes, samples and temporary files
only: it must not touch the asset store or engines.
"""

import io
import json
import logging
import math
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from pydub import AudioSegment
from pydub.generators import Sine

from controller.tts import dynamics, loudness
from controller.tts.errors import AudioProcessingError
from controller.tts.loudness import Samples

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
TARGET_LUFS = -16.0
MAX_TRUE_PEAK = -1.5
# The limiter works on true peaks, but the MP3 encoder's noise adds up to ~1 dB of overshoot to limited
# speech: the margin below −1.5 dBTP covers it; where it does not, the check after the encode lowers the
# ceiling and encodes again.
_LIMITER_CEILING_DB = -3.0
_TOLERANCE_LU = 0.3  # well inside the ±1 LU the broadcast spec allows
_SPEC_TOLERANCE_LU = 1.0  # DESIGN §6: −16 LUFS ±1
_MAX_TRIALS = 12  # make-up gains tried on the limiter's estimate (microseconds each) per encode
_MAX_ENCODES = 3
_PEAK_MARGIN_DB = 0.3
_PCM = ["-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1"]  # how samples travel to and from ffmpeg
_FFMPEG_TIMEOUT_S = 300.0  # a ten-minute recording takes ~10 s per pass on a Raspberry Pi-class CPU


# Uploads are decoded once, by these demuxers only, from the uploaded file only: a playlist (HLS, concat,
# ...) would make ffmpeg open other files or URLs, whose audio would then become the bulletin's (issue 20).
UPLOAD_DEMUXERS = "mp3,wav,ogg,flac,mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,aac,amr,caf,aiff,asf"


def decode_upload(source: Path, target: Path, max_seconds: float) -> None:
    """Decode an untrusted upload to a mono 16-bit WAV of at most `max_seconds`, reading nothing else.

    Every later step (length, loudness, encode) reads the WAV, so no other ffmpeg or ffprobe call ever
    parses the uploaded bytes.
    """
    _ffmpeg(
        [
            *("-protocol_whitelist", "file", "-format_whitelist", UPLOAD_DEMUXERS),
            *("-i", str(source), "-t", f"{max_seconds:.0f}", "-vn", "-sn", "-dn", "-map_metadata", "-1"),
            *("-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", str(target)),
        ]
    )


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness (LUFS) and true peak (dBTP) of a piece of audio."""

    integrated_lufs: float
    true_peak_dbtp: float


def decode(data: bytes) -> AudioSegment:
    """Decode one engine clip (WAV or MP3) to mono 16-bit PCM at our sample rate."""
    audio_format = "wav" if data.startswith(b"RIFF") else "mp3"
    clip = AudioSegment.from_file(io.BytesIO(data), format=audio_format)
    return clip.set_channels(1).set_frame_rate(SAMPLE_RATE).set_sample_width(2)


def assemble(
    clips: Sequence[bytes], pause_ms: int, *, intro: bool, outro: bool, gap_ms: int = 300
) -> Samples:
    """Engine clips one after another, `pause_ms` apart, with the chime `gap_ms` before and/or after.

    One join of the raw bytes: adding pydub segments one by one copies the growing bulletin each time.
    """
    pause = bytes(2 * SAMPLE_RATE * pause_ms // 1000)
    parts = [pause.join(decode(clip).raw_data for clip in clips)]
    gap = bytes(2 * SAMPLE_RATE * gap_ms // 1000)
    if intro:
        parts = [_chime_pcm(), gap, *parts]
    if outro:
        parts = [*parts, gap, _chime_pcm()]
    return (np.frombuffer(b"".join(parts), dtype=np.int16) / 32768.0).astype(np.float32)


@cache
def _chime_pcm() -> bytes:
    """A soft two-tone chime (E5 then C5, a major third down, with a little octave shimmer), ~1.3 s."""
    tones = []
    for frequency in (659.25, 523.25):
        tone = Sine(frequency, sample_rate=SAMPLE_RATE).to_audio_segment(duration=900, volume=-14.0)
        shimmer = Sine(frequency * 2, sample_rate=SAMPLE_RATE).to_audio_segment(duration=900, volume=-26.0)
        tones.append(tone.overlay(shimmer).fade_in(8).fade_out(820))
    silence = AudioSegment.silent(duration=1300, frame_rate=SAMPLE_RATE)
    chime = silence.overlay(tones[0]).overlay(tones[1], position=400).set_sample_width(2).set_channels(1)
    return bytes(chime.raw_data)


def decode_file(source: Path) -> Samples:
    """Any file ffmpeg reads (a recording, an MP3 we made) as mono float32 samples at our rate."""
    with tempfile.TemporaryDirectory(prefix="loaxa-pcm-") as tmp:
        target = Path(tmp) / "pcm"
        _ffmpeg_quiet(["-i", str(source), *_PCM, str(target)])
        return np.fromfile(target, dtype="<f4").astype(np.float32)


def broadcast_mp3(samples: Samples, bitrate_kbps: int = 64) -> bytes:
    """Bring mono samples at our rate to −16 LUFS with true peaks ≤ −1.5 dBTP, and encode them once as MP3.

    Measured in process: the source is brought to the target and compressed gently (speech over outdoor
    horns wants a smaller crest factor), then the make-up gain under a true-peak limiter that meets the
    target after the encoder (whose own gain `codec_gain_db` measures) is found by secant steps on the
    limiter's loudness estimate. The MP3 is decoded and measured once: where the encoder's noise pushed
    a peak over −1.5 dBTP or loudness left the target, the ceiling or aim is corrected by what was
    measured and the samples are encoded again (rare; logged).
    """
    level = loudness.integrated_lufs(samples, SAMPLE_RATE)
    if not math.isfinite(level):
        raise AudioProcessingError("the audio is silent: there is nothing to bring to broadcast loudness")
    speech = dynamics.compress(dynamics.gain(samples, TARGET_LUFS - level), SAMPLE_RATE)
    aim, ceiling = TARGET_LUFS - codec_gain_db(bitrate_kbps), _LIMITER_CEILING_DB
    within_spec: bytes | None = None  # an encode inside the broadcast spec (±1 LU), kept as a fallback
    for attempt in range(1, _MAX_ENCODES + 1):
        limiter = dynamics.Limiter(speech, SAMPLE_RATE, ceiling)
        mp3 = _encode(limiter.apply(_make_up(limiter, aim)), bitrate_kbps)
        decoded = _decode_mp3(mp3)
        reached = loudness.integrated_lufs(decoded, SAMPLE_RATE)
        peak = loudness.true_peak_dbtp(decoded)
        if peak <= MAX_TRUE_PEAK and abs(reached - TARGET_LUFS) <= _TOLERANCE_LU:
            return mp3
        if peak <= MAX_TRUE_PEAK and abs(reached - TARGET_LUFS) <= _SPEC_TOLERANCE_LU and within_spec is None:
            within_spec = mp3
        log.info(
            "MP3 encode %d reached %.2f LUFS, %.2f dBTP (aimed %.2f LUFS under %.2f dBTP); encoding again",
            attempt, reached, peak, aim, ceiling,
        )  # fmt: skip
        aim += TARGET_LUFS - reached
        if peak > MAX_TRUE_PEAK:
            ceiling -= peak - MAX_TRUE_PEAK + _PEAK_MARGIN_DB
    if within_spec is not None:
        # Sparse, peaky sound (a beep train, a whistle) can keep the aim from converging; inside the spec
        # it still goes on air rather than failing the bulletin.
        log.warning("loudness did not settle within %.1f LU; an encode inside ±1 LU is used", _TOLERANCE_LU)
        return within_spec
    raise AudioProcessingError(
        f"Không đưa được âm thanh về độ lớn phát thanh chuẩn ({TARGET_LUFS} LUFS, đỉnh dưới {MAX_TRUE_PEAK} "
        f"dBTP; lần cuối {reached:.1f} LUFS, {peak:.1f} dBTP). Hãy ghi âm lại ở nơi yên tĩnh, nói đều "
        "giọng và gần micrô."
    )


@cache
def codec_gain_db(bitrate_kbps: int) -> float:
    """How much louder (dB; negative: quieter) audio comes out of our MP3 encode and decode than it went in.

    LAME as ffmpeg drives it returns every frequency ~0.46 dB quieter; measured once per process on a
    2 s 1 kHz tone (the middle second), so another LAME or ffmpeg version is measured, not assumed.
    """
    tone = (0.1 * np.sin(2 * np.pi * 1000 * np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)
    decoded = _decode_mp3(_encode(tone, bitrate_kbps))
    middle = slice(SAMPLE_RATE // 2, SAMPLE_RATE * 3 // 2)
    return 10 * math.log10(np.mean(np.square(decoded[middle])) / np.mean(np.square(tone[middle])))


def _make_up(limiter: dynamics.Limiter, aim_lufs: float) -> float:
    """The make-up gain (dB) whose limited loudness is nearest to `aim_lufs`."""
    tried: list[tuple[float, float]] = []  # (make-up gain, loudness reached)
    make_up = 0.0
    for _ in range(_MAX_TRIALS):
        tried.append((make_up, limiter.loudness(make_up)))
        error = aim_lufs - tried[-1][1]
        if abs(error) <= _TOLERANCE_LU / 10:
            break
        # Secant step: each dB of make-up gives less than a dB of loudness once the limiter works.
        slope = 1.0
        if len(tried) > 1 and tried[-1][0] != tried[-2][0]:
            slope = (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])
        make_up += error / min(1.0, max(0.1, slope))
    log.debug("loudness make-up trials %s", tried)
    return min(tried, key=lambda t: abs(aim_lufs - t[1]))[0]


def _encode(samples: Samples, bitrate_kbps: int) -> bytes:
    """Mono float samples at our rate → MP3 bytes (libmp3lame, constant bitrate, no metadata)."""
    encoder = ["-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k", "-map_metadata", "-1", "-f", "mp3"]
    return _transcode(samples.astype("<f4").tobytes(), _PCM, encoder)


def _decode_mp3(mp3: bytes) -> Samples:
    """MP3 bytes → mono float32 samples at our rate."""
    return np.frombuffer(_transcode(mp3, ["-f", "mp3"], _PCM), dtype="<f4").astype(np.float32)


def _transcode(data: bytes, source_format: list[str], target_format: list[str]) -> bytes:
    """Run ffmpeg from `data` to bytes in the target format, through temporary files.

    Files, not pipes: pushing 30 MB each way through `communicate()`'s poll loop cost ~0.3 s a call.
    """
    with tempfile.TemporaryDirectory(prefix="loaxa-ffmpeg-") as tmp:
        source, target = Path(tmp) / "in", Path(tmp) / "out"
        source.write_bytes(data)
        _ffmpeg_quiet([*source_format, "-i", str(source), *target_format, str(target)])
        return target.read_bytes()


def measure_file(source: Path, *, true_peak: bool = True) -> Loudness:
    """Integrated loudness and true peak (skip it: 4× faster) of a file, by ffmpeg's ebur128 filter."""
    stderr = _ffmpeg(
        ["-i", str(source), "-af", f"ebur128=peak={'true' if true_peak else 'none'}", "-f", "null", "-"]
    )
    summary = stderr[stderr.rfind("Summary:") :]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not integrated or (true_peak and not peak):
        raise AudioProcessingError(f"ffmpeg ebur128 printed no summary for {source}")
    return Loudness(float(integrated.group(1)), float(peak.group(1)) if peak else math.nan)


def measure(data: bytes) -> Loudness:
    """Integrated loudness and true peak of encoded audio bytes (what our tests and bench check)."""
    with tempfile.NamedTemporaryFile(prefix="loaxa-measure-") as file:
        file.write(data)
        file.flush()
        return measure_file(Path(file.name))


def duration_ms(data: bytes) -> int:
    """The playing time of encoded audio, as ffprobe reports it, in milliseconds."""
    with tempfile.NamedTemporaryFile(prefix="loaxa-probe-") as file:
        file.write(data)
        file.flush()
        return file_duration_ms(Path(file.name))


def file_duration_ms(path: Path) -> int:
    """The playing time of an audio file, as ffprobe reports it, in milliseconds."""
    done = _run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)])
    seconds = float(json.loads(done.stdout)["format"]["duration"])
    if not math.isfinite(seconds):
        raise AudioProcessingError(f"ffprobe reported a duration of {seconds}")
    return round(seconds * 1000)


def _ffmpeg_quiet(arguments: list[str]) -> None:
    """Run ffmpeg, printing nothing but errors."""
    _run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *arguments])


def _ffmpeg(arguments: list[str]) -> str:
    """Run ffmpeg quietly apart from filter output; return its stderr."""
    return _run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "info", *arguments]).stderr


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_FFMPEG_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AudioProcessingError(
            f"{command[0]} could not run: {error}; install the ffmpeg package"
        ) from error
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        raise AudioProcessingError(f"{command[0]} failed (exit {done.returncode}): {' / '.join(tail)}")
    return done
