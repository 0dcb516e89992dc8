"""Audio plumbing with pydub and ffmpeg: decode, join with pauses, chime, loudness-normalize, encode MP3.

Owns every ffmpeg/ffprobe call of text to speech and the broadcast format (mono MP3, −16 LUFS, true peak
≤ −1.5 dBTP). It works on bytes and temporary files only: it must not touch the asset store or engines.
"""

import io
import json
import logging
import math
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydub import AudioSegment
from pydub.generators import Sine

from controller.tts.errors import AudioProcessingError

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
TARGET_LUFS = -16.0
MAX_TRUE_PEAK = -1.5
# The limiter sees samples, not true peaks, and MP3 encoding adds inter-sample overshoot: on short
# texts true peaks land 0.0–0.2 dB above this ceiling, on five-minute bulletins up to 0.8 dB; the final
# true-peak check lowers the ceiling for those (by the excess plus _PEAK_MARGIN_DB) and encodes again.
_LIMITER_CEILING_DB = -2.0
_TOLERANCE_LU = 0.3  # well inside the ±1 LU the broadcast spec allows
_MAX_TRIALS = 4
_MAX_CEILINGS = 3
_PEAK_MARGIN_DB = 0.3
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


def join(clips: list[AudioSegment], pause_ms: int) -> AudioSegment:
    """Clips one after another with `pause_ms` of silence between them."""
    pause = AudioSegment.silent(duration=pause_ms, frame_rate=SAMPLE_RATE)
    joined = clips[0]
    for clip in clips[1:]:
        joined = joined + pause + clip
    return joined


def chime() -> AudioSegment:
    """A soft two-tone chime (E5 then C5, a major third down, with a little octave shimmer), ~1.3 s."""
    tones = []
    for frequency in (659.25, 523.25):
        tone = Sine(frequency, sample_rate=SAMPLE_RATE).to_audio_segment(duration=900, volume=-14.0)
        shimmer = Sine(frequency * 2, sample_rate=SAMPLE_RATE).to_audio_segment(duration=900, volume=-26.0)
        tones.append(tone.overlay(shimmer).fade_in(8).fade_out(820))
    silence = AudioSegment.silent(duration=1300, frame_rate=SAMPLE_RATE)
    return silence.overlay(tones[0]).overlay(tones[1], position=400).set_sample_width(2).set_channels(1)


def with_chimes(speech: AudioSegment, intro: bool, outro: bool, gap_ms: int = 300) -> AudioSegment:
    """Put the chime before and/or after the speech, `gap_ms` apart."""
    gap = AudioSegment.silent(duration=gap_ms, frame_rate=SAMPLE_RATE)
    if intro:
        speech = chime() + gap + speech
    if outro:
        speech = speech + gap + chime()
    return speech


def loudness_to_mp3(source: Path, bitrate_kbps: int = 64) -> bytes:
    """Normalize any file ffmpeg reads to −16 LUFS, peaks limited below −1.5 dBTP, as mono MP3 bytes.

    ffmpeg's two-pass `loudnorm` falls back to its dynamic mode whenever the gain would push peaks over
    the ceiling, which is always the case for espeak-ng (it clips at 0 dBFS), and then lands 0.8–1.2 LU
    short. So: bring the source to the target, compress it gently (speech over outdoor horns wants a
    smaller crest factor anyway), then find the make-up gain that meets the target after the limiter and
    the MP3 encoder by measuring trial encodes (usually one; a secant step otherwise). Last, the true
    peak of the chosen encode is measured: where the encoder's overshoot crossed −1.5 dBTP (long
    bulletins: up to 0.8 dB over the limiter), the limiter ceiling comes down by the excess and the
    trials run again.
    """
    pre_gain = TARGET_LUFS - measure_file(source, true_peak=False).integrated_lufs
    with tempfile.TemporaryDirectory(prefix="loaxa-mp3-") as tmp:
        compressed = Path(tmp) / "compressed.wav"
        _ffmpeg(
            [
                *("-i", str(source), "-ac", "1", "-af", _compress_chain(pre_gain)),
                *("-c:a", "pcm_f32le", str(compressed)),
            ]
        )
        ceiling = _LIMITER_CEILING_DB
        for _ in range(_MAX_CEILINGS):
            mp3 = _encode_at_target(compressed, Path(tmp) / "trial.mp3", ceiling, bitrate_kbps)
            peak = measure(mp3).true_peak_dbtp
            if peak <= MAX_TRUE_PEAK:
                break
            log.debug("true peak %.2f dBTP over %.1f with ceiling %.2f dB", peak, MAX_TRUE_PEAK, ceiling)
            ceiling -= peak - MAX_TRUE_PEAK + _PEAK_MARGIN_DB
    return mp3


def _encode_at_target(compressed: Path, trial: Path, ceiling_db: float, bitrate_kbps: int) -> bytes:
    """The MP3 encode whose loudness is closest to the target, under a limiter at `ceiling_db`."""
    post_gain = TARGET_LUFS - measure_file(compressed, true_peak=False).integrated_lufs
    tried: list[tuple[float, float, bytes]] = []  # (make-up gain, loudness reached, MP3)
    for _ in range(_MAX_TRIALS):
        # Each trial is the real encode: the MP3 low-pass alone moves espeak-ng's loudness by 0.5 LU.
        _ffmpeg(
            [
                *("-i", str(compressed), "-af", _limit_chain(post_gain, ceiling_db)),
                *("-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k", "-map_metadata", "-1", str(trial)),
            ]
        )
        tried.append((post_gain, measure_file(trial, true_peak=False).integrated_lufs, trial.read_bytes()))
        error = TARGET_LUFS - tried[-1][1]
        if abs(error) <= _TOLERANCE_LU:
            break
        # Secant step: each dB of make-up gives less than a dB of loudness once the limiter works.
        slope = 1.0
        if len(tried) > 1 and tried[-1][0] != tried[-2][0]:
            slope = (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])
        post_gain += error / min(1.0, max(0.3, slope))
    log.debug("loudness make-up trials %s at ceiling %.2f dB", [t[:2] for t in tried], ceiling_db)
    return min(tried, key=lambda t: abs(TARGET_LUFS - t[1]))[2]


def _compress_chain(pre_gain_db: float) -> str:
    """Our sample rate, the gain that brings the source to the target, then a gentle speech compressor."""
    return (
        f"aresample={SAMPLE_RATE},volume={pre_gain_db:.2f}dB,"
        "acompressor=threshold=-24dB:ratio=2.5:attack=3:release=80"
    )


def _limit_chain(post_gain_db: float, ceiling_db: float) -> str:
    """Make-up gain, then a look-ahead limiter under the ceiling."""
    ceiling = 10 ** (ceiling_db / 20)
    limiter = f"alimiter=limit={ceiling:.4f}:attack=1:release=20:level=false:latency=true"
    return f"volume={post_gain_db:.2f}dB,{limiter}"


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
