"""Loudness and true peak of samples, measured in process (EBU R128 / ITU-R BS.1770-4).

Owns the measurements that bring speech and recordings to broadcast loudness (−16 LUFS, true peak
≤ −1.5 dBTP) before the one MP3 encode; `dynamics` changes the samples. Loudness is BS.1770-4: the
K-weighting filters (designed for any sample rate as libebur128 does, exact at 48 kHz), 400 ms blocks
every 100 ms, the −70 LUFS absolute and −10 LU relative gates, all vectorized (pyloudnorm computes the
same but loops over blocks in Python and filters with `lfilter`: 5× slower on a bulletin, and its
shelf filter is an approximation, 0.1 LU off ffmpeg's ebur128 on our speech). True peak is the peak of
a 4× polyphase oversampling (BS.1770-4 Annex 2). Everything works on mono float32 arrays at the
caller's sample rate; it must not run programs or touch files (`audio` does).
"""

import math
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import signal

from controller.tts.errors import AudioProcessingError

Samples = npt.NDArray[np.float32]

OVERSAMPLING: Final = 4
_ABSOLUTE_GATE_LUFS: Final = -70.0
_CHUNK: Final = 1 << 19  # samples oversampled at once (8 MB 4× over): a whole bulletin would take 0.1 GB
# About 12 taps per phase, as the interpolator of BS.1770-4 Annex 2 (a Kaiser design of that length; odd,
# so it has no half-sample delay; resample_poly scales it by the oversampling factor).
_INTERPOLATOR: Final = signal.firwin(49, 1 / OVERSAMPLING, window=("kaiser", 6.0)).astype(np.float32)


def integrated_lufs(samples: Samples, rate: int) -> float:
    """EBU R128 / BS.1770-4 integrated loudness of mono samples; −inf for silence."""
    step = round(0.1 * rate)
    if len(samples) < 4 * step:
        raise AudioProcessingError(f"audio of {len(samples) / rate:.2f} s is shorter than one 400 ms block")
    steps = len(samples) // step
    energy = np.square(k_weighted(samples, rate)[: steps * step], dtype=np.float64).reshape(steps, step)
    return gated_lufs(energy.sum(axis=1), step)


def k_weighted(samples: Samples, rate: int) -> npt.NDArray[np.float64]:
    """The samples through BS.1770's K-weighting filters."""
    return np.asarray(signal.sosfilt(_k_weighting(rate), samples), dtype=np.float64)


def gated_lufs(step_energy: npt.NDArray[np.float64], step: int) -> float:
    """Integrated loudness from the K-weighted energy of consecutive 100 ms steps of `step` samples each.

    A gating block is four steps (400 ms, 75 % overlap); blocks under −70 LUFS, then those 10 LU under
    the mean of the rest, are left out.
    """
    blocks = np.convolve(step_energy, np.ones(4), mode="valid") / (4 * step)
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(blocks)
    gated = blocks[levels > _ABSOLUTE_GATE_LUFS]
    if not len(gated):
        return -math.inf
    relative = -0.691 + 10 * math.log10(gated.mean()) - 10.0
    kept = blocks[(levels > _ABSOLUTE_GATE_LUFS) & (levels > relative)]
    return -0.691 + 10 * math.log10(kept.mean())


@cache
def _k_weighting(rate: int) -> npt.NDArray[np.float64]:
    """BS.1770 pre-filter (high shelf) and RLB filter (high pass) as second-order sections at `rate`."""
    shelf_hz, shelf_db, shelf_q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * shelf_hz / rate)
    vh = 10 ** (shelf_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / shelf_q + k * k
    shelf = [
        (vh + vb * k / shelf_q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / shelf_q + k * k) / a0,
        1.0, 2 * (k * k - 1) / a0, (1 - k / shelf_q + k * k) / a0,
    ]  # fmt: skip
    high_hz, high_q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * high_hz / rate)
    a0 = 1 + k / high_q + k * k
    high_pass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / high_q + k * k) / a0]
    return np.array([shelf, high_pass], dtype=np.float64)


def peak_envelope(samples: Samples) -> Samples:
    """For each sample, the largest magnitude of the 4× oversampled signal around it (its true peak)."""
    out = np.abs(samples)
    pad = len(_INTERPOLATOR) // OVERSAMPLING
    padded = np.concatenate([np.zeros(pad, np.float32), samples, np.zeros(pad, np.float32)])
    for start in range(0, len(samples), _CHUNK):
        stop = min(start + _CHUNK, len(samples))
        upsampled = signal.resample_poly(
            padded[start : stop + 2 * pad], OVERSAMPLING, 1, window=_INTERPOLATOR
        )[pad * OVERSAMPLING : (pad + stop - start) * OVERSAMPLING]
        magnitude = np.abs(upsampled, out=upsampled)
        # The phases as strided views: a max over an axis of 4 is several times slower in numpy.
        for phase in range(1, OVERSAMPLING):
            np.maximum(out[start:stop], magnitude[phase::OVERSAMPLING], out=out[start:stop])
    return out


def true_peak_dbtp(samples: Samples) -> float:
    """The true peak of the samples in dBTP."""
    peak = float(peak_envelope(samples).max(initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else -math.inf
