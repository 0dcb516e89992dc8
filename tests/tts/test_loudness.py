"""The in-process loudness meter and limiter, checked against ffmpeg's ebur128 filter (independent)."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from controller.tts import dynamics, loudness
from controller.tts.audio import SAMPLE_RATE, measure_file
from controller.tts.loudness import Samples


def lavfi(source: str, seconds: float) -> Samples:
    """A test signal from ffmpeg's generators, as mono float32 samples at our rate."""
    done = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", source, "-t", str(seconds),
         "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(done.stdout, dtype="<f4").copy()


def as_wav(samples: Samples, path: Path) -> Path:
    """Float WAV, so ffmpeg measures exactly these samples."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "-",
         "-c:a", "pcm_f32le", str(path)],
        input=samples.astype("<f4").tobytes(), check=True,
    )  # fmt: skip
    return path


SIGNALS = {
    "pink noise": ("anoisesrc=color=pink:amplitude=0.3:seed=7:r=24000", 8.0),
    "tones, one every 3 s then silence (gated)": (
        "aevalsrc=0.5*sin(2*PI*440*t)*lt(mod(t\\,3)\\,1)+0.2*sin(2*PI*3000*t)*lt(mod(t\\,3)\\,1):s=24000",
        9.0,
    ),
    "low hum and a whistle": ("aevalsrc=0.6*sin(2*PI*60*t)+0.05*sin(2*PI*9000*t):s=24000", 5.0),
}


@pytest.mark.parametrize("name", SIGNALS)
def test_meter_agrees_with_ffmpeg(name: str, tmp_path: Path) -> None:
    samples = lavfi(*SIGNALS[name])
    reference = measure_file(as_wav(samples, tmp_path / "signal.wav"))
    lufs, peak = loudness.integrated_lufs(samples, SAMPLE_RATE), loudness.true_peak_dbtp(samples)
    assert lufs == pytest.approx(reference.integrated_lufs, abs=0.15)
    # ffmpeg oversamples a 24 kHz signal 8×, we 4×: we may read a true peak a little lower, never higher.
    assert reference.true_peak_dbtp - 0.5 <= peak <= reference.true_peak_dbtp + 0.1


def test_silence_has_no_loudness() -> None:
    assert loudness.integrated_lufs(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE) == float("-inf")


def test_inter_sample_peaks_are_seen_and_limited(tmp_path: Path) -> None:
    # A quarter-sample-rate sine at 45°: every sample is at 0.707 of the wave's peak, so the sample peak
    # says −3 dBFS where the true peak is 0 dBTP (BS.1770-4 Annex 2's own example).
    # Faded in and out: an abrupt full-scale start rings differently in every interpolator.
    n = np.arange(SAMPLE_RATE * 3)
    fade = np.minimum(1.0, np.minimum(n, n[::-1]) / (SAMPLE_RATE / 10))
    samples = (np.sin(np.pi / 2 * n + np.pi / 4) * fade).astype(np.float32)
    assert 20 * np.log10(np.abs(samples).max()) == pytest.approx(-3.0, abs=0.05)
    assert loudness.true_peak_dbtp(samples) == pytest.approx(0.0, abs=0.2)

    limited = dynamics.Limiter(samples, SAMPLE_RATE, -6.0).apply(0.0)
    assert measure_file(as_wav(limited, tmp_path / "limited.wav")).true_peak_dbtp <= -5.9


def test_limiter_estimate_matches_the_limited_samples() -> None:
    speechlike = lavfi("anoisesrc=color=pink:amplitude=0.5:seed=3:r=24000,tremolo=f=4:d=0.9", 10.0)
    limiter = dynamics.Limiter(speechlike, SAMPLE_RATE, -3.0)
    for make_up in (0.0, 6.0, 12.0):
        limited = limiter.apply(make_up)
        assert limiter.loudness(make_up) == pytest.approx(
            loudness.integrated_lufs(limited, SAMPLE_RATE), abs=0.1
        )
        assert loudness.true_peak_dbtp(limited) <= -2.9
