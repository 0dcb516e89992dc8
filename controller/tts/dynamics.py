"""Gain, a speech compressor and a true-peak limiter on samples, in process (before the one MP3 encode).

Owns how the samples' dynamics change on the way to broadcast loudness; measuring is `loudness`'s. It
works on mono float32 arrays at the caller's sample rate and must not run programs or touch files.
"""

import math
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import ndimage, signal

from controller.tts import loudness
from controller.tts.loudness import Samples

_COMPRESSOR_THRESHOLD_DB: Final = -24.0
_COMPRESSOR_RATIO: Final = 2.5
_DETECTOR_MS: Final = 10.0  # RMS detector time constant: follows syllables, not single waves
_GAIN_SMOOTHING_MS: Final = 40.0
_LIMITER_FRAMES_PER_STEP: Final = 50  # 2 ms frames: the gain falls over one frame before a peak …
_LIMITER_HOLD_FRAMES: Final = 15  # … and rises again 30 ms after it: no distortion from a fast release


def gain(samples: Samples, db: float) -> Samples:
    """The samples `db` louder."""
    return samples * np.float32(10 ** (db / 20))


def compress(samples: Samples, rate: int) -> Samples:
    """A gentle speech compressor (−24 dBFS RMS threshold, 2.5:1): a smaller crest factor for outdoor horns.

    Feed-forward: an RMS detector, the static curve in dB, then a smoothed gain. Detector and gain move
    at syllable speed, so they run on 1 ms frames (one-pole filters as two `lfilter` calls) and the gain
    is interpolated back to the samples.
    """
    hop = max(1, rate // 1000)
    power = _one_pole(_frames(np.square(samples), hop).mean(axis=1), 1000, _DETECTOR_MS)
    level_db = 10 * np.log10(np.maximum(power, 1e-12))
    over = np.maximum(level_db - _COMPRESSOR_THRESHOLD_DB, 0.0)
    reduction_db = _one_pole(over * (1 - 1 / _COMPRESSOR_RATIO), 1000, _GAIN_SMOOTHING_MS)
    return samples * _interpolated(np.power(10.0, -reduction_db / 20).astype(np.float32), hop, len(samples))


class Limiter:
    """A look-ahead limiter on the true peak of one piece of audio, whose make-up gain is tried cheaply.

    Per 2 ms frame, the gain is the least any sample in the frames from 30 ms before to one after needs
    (ceiling ÷ true peak); between frame centres it is interpolated linearly. Each sample lies in one of
    the two frames around it, so the gain is never above what a sample needs (the ramp changes the
    in-between values a little: peaks land within ~0.1 dB of the ceiling). True peaks and K-weighted
    energy are taken per frame once; a trial gain's loudness is then the gated sum of frame energies
    times the squared frame gains, a few thousand numbers instead of the whole signal.
    """

    def __init__(self, samples: Samples, rate: int, ceiling_dbtp: float) -> None:
        self._samples = samples
        self._step = round(0.1 * rate)
        self._hop = self._step // _LIMITER_FRAMES_PER_STEP
        self._ceiling = 10 ** (ceiling_dbtp / 20)
        self._peaks = _frames(loudness.peak_envelope(samples), self._hop).max(axis=1).astype(np.float64)
        weighted = np.square(loudness.k_weighted(samples, rate)).astype(np.float32)
        self._energy = _frames(weighted, self._hop).sum(axis=1, dtype=np.float64)

    def loudness(self, make_up_db: float) -> float:
        """The integrated loudness (LUFS) the limited samples have with this make-up gain."""
        energy = self._energy * np.square(self._gains(make_up_db))
        steps = len(energy) // _LIMITER_FRAMES_PER_STEP
        per_step = energy[: steps * _LIMITER_FRAMES_PER_STEP].reshape(steps, -1).sum(axis=1)
        return loudness.gated_lufs(per_step, self._step)

    def apply(self, make_up_db: float) -> Samples:
        """The samples with the make-up gain, limited."""
        curve = _interpolated(self._gains(make_up_db).astype(np.float32), self._hop, len(self._samples))
        return self._samples * curve

    def _gains(self, make_up_db: float) -> npt.NDArray[np.float64]:
        """Per frame: make-up times limiting gain."""
        scale = 10 ** (make_up_db / 20)
        needed = np.minimum(1.0, self._ceiling / np.maximum(self._peaks * scale, 1e-12))
        # minimum_filter1d with size s and origin o covers [f − s//2 − o, f + s − 1 − s//2 − o]:
        # here [f − hold, f + 1].
        size = _LIMITER_HOLD_FRAMES + 2
        held = ndimage.minimum_filter1d(needed, size=size, origin=(size - 1) // 2 - 1, mode="nearest")
        return np.asarray(held * scale, dtype=np.float64)


def _frames(values: Samples, hop: int) -> Samples:
    """`values` as rows of `hop`, the last one padded with zeros."""
    count = -(-len(values) // hop)
    padded = np.zeros(count * hop, dtype=np.float32)
    padded[: len(values)] = values
    return padded.reshape(count, hop)


def _interpolated(per_frame: Samples, hop: int, length: int) -> Samples:
    """Per-frame values as one value per sample: linear between frame centres, flat before the first."""
    weights = (np.arange(hop, dtype=np.float32) + 0.5) / hop
    ramps = per_frame[:-1, None] + (per_frame[1:] - per_frame[:-1])[:, None] * weights[None, :]
    head = np.full(hop // 2, per_frame[0], dtype=np.float32)
    tail = np.full(max(0, length - hop // 2 - ramps.size), per_frame[-1], dtype=np.float32)
    return np.concatenate([head, ramps.reshape(-1), tail])[:length]


def _one_pole(values: npt.NDArray[np.float64], rate: int, time_constant_ms: float) -> npt.NDArray[np.float64]:
    """A one-pole low-pass (exponential smoothing) with the given time constant, from the first value."""
    alpha = 1 - math.exp(-1000 / (rate * time_constant_ms))
    smoothed, _ = signal.lfilter([alpha], [1, alpha - 1], values, zi=[values[0] * (1 - alpha)])
    return np.asarray(smoothed, dtype=np.float64)
