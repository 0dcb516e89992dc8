"""espeak-ng intelligibility proxies per setting: speech rate, pauses at punctuation, tone range.

Each setting (voice variant, rate in words per minute, pitch, word gap) reads the same bulletin sentences
from tests/data/normalizer_corpus.tsv (the sentences with commas or colons in them, after our
normalizer). For each clip it measures, from the audio:
- speaking rate: syllables ÷ time from the first to the last sound (a Vietnamese written word is one
  syllable); target 3.5–4.5 syllables/s for outdoor loudspeakers (docs/speech.md says why);
- pauses: ffmpeg `silencedetect` (−35 dB, ≥ 120 ms) inside the clip, matched to the punctuation marks
  by their position in syllables (±12 % of the clip): the share of marks with a pause (recall), pauses
  where the text has no mark (per sentence), and the mean pause length at marks;
- tone range: the spread of the voice's pitch (F0, autocorrelation, 10th–90th percentile, in
  semitones); Vietnamese tones are pitch contours, so a flatter voice makes them harder to tell apart.

Run: .venv/bin/python bench/bench_espeak.py [--sentences 12]. Never run by the tests.
"""

import argparse
import csv
import io
import math
import re
import statistics
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from controller.tts import EspeakNg, normalize_text

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "normalizer_corpus.tsv"
TARGET = (3.5, 4.5)  # syllables per second
_MARK = re.compile(r"[,;:–]")
_SILENCE = re.compile(r"silence_(start|end): (-?[\d.]+)")


@dataclass(frozen=True)
class Setting:
    """One espeak-ng configuration to measure."""

    voice: str = "vi"
    rate: int = 150
    pitch: int = 50
    gap: int = 0

    def label(self) -> str:
        return f"{self.voice:<18} {self.rate:>4} {self.pitch:>5} {self.gap:>4}"


@dataclass(frozen=True)
class Clip:
    """What one sentence measured."""

    syllables: int
    span_s: float
    marks: int
    hits: int
    extra: int
    mark_pauses_s: tuple[float, ...]
    f0_range_st: float | None


PREVIOUS = Setting()  # the settings before issue 19: rate 150, pitch 50, no word gap
CHOSEN = Setting(
    voice=EspeakNg.voice, rate=EspeakNg.words_per_minute, pitch=EspeakNg.pitch, gap=EspeakNg.word_gap
)


def sentences(count: int) -> list[str]:
    """Normalized bulletin sentences with punctuation inside them (where pauses belong)."""
    with CORPUS.open(encoding="utf-8", newline="") as file:
        rows = csv.reader((line for line in file if not line.startswith("#")), delimiter="\t")
        texts = [text for category, text, _expected in rows if category == "bulletin"]
    read = [s for t in texts for s in normalize_text(t).sentences if _MARK.search(s.rstrip(".!?"))]
    return read[:count]


def samples(wav: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(wav)) as audio:
        rate = audio.getframerate()
        data = np.frombuffer(audio.readframes(audio.getnframes()), dtype=np.int16).astype(np.float64)
    return data / 32768.0, rate


def silences(wav: bytes) -> list[tuple[float, float]]:
    """(start, end) of each silence ffmpeg finds in the clip."""
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", "pipe:0", "-af", "silencedetect=noise=-35dB:d=0.12",
         "-f", "null", "-"],
        input=wav, capture_output=True, check=True,
    )  # fmt: skip
    found: list[tuple[float, float]] = []
    start = 0.0
    for kind, value in _SILENCE.findall(done.stderr.decode()):
        if kind == "start":
            start = max(0.0, float(value))
        else:
            found.append((start, float(value)))
    return found


def f0_range(data: np.ndarray, rate: int) -> float | None:
    """10th–90th percentile spread of F0 over voiced 40 ms frames, in semitones."""
    frame, hop = int(0.04 * rate), int(0.01 * rate)
    low, high = int(rate / 400), int(rate / 60)
    pitches = []
    for start in range(0, len(data) - frame, hop):
        chunk = data[start : start + frame]
        chunk = chunk - chunk.mean()
        energy = float(np.dot(chunk, chunk))
        if energy < 1e-3 * frame * 0.01:
            continue
        corr = np.correlate(chunk, chunk, mode="full")[frame - 1 :]
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] / corr[0] > 0.5:
            pitches.append(rate / lag)
    if len(pitches) < 10:
        return None
    p10, p90 = np.percentile(pitches, [10, 90])
    return 12 * math.log2(p90 / p10)


def measure(engine: EspeakNg, sentence: str) -> Clip:
    wav = engine.synthesize(sentence)
    data, rate = samples(wav)
    total = len(data) / rate
    quiet = silences(wav)
    first = quiet[0][1] if quiet and quiet[0][0] <= 0.01 else 0.0
    last = quiet[-1][0] if quiet and quiet[-1][1] >= total - 0.05 else total
    inside = [(a, b) for a, b in quiet if a > first + 0.01 and b < last - 0.01]
    span = max(last - first, 0.01)
    words = sentence.split()
    syllables = sum(1 for w in words if any(ch.isalnum() for ch in w))
    expected, count = [], 0
    for word in words[:-1]:
        count += any(ch.isalnum() for ch in word)
        if _MARK.search(word):
            expected.append(count / syllables)
    found = [((a + b) / 2 - first) / span for a, b in inside]
    hits, lengths, used = 0, [], set()
    for position in expected:
        best = min(
            (i for i in range(len(found)) if i not in used),
            key=lambda i: abs(found[i] - position),
            default=None,
        )
        if best is not None and abs(found[best] - position) <= 0.12:
            used.add(best)
            hits += 1
            lengths.append(inside[best][1] - inside[best][0])
    return Clip(
        syllables, span, len(expected), hits, len(found) - len(used), tuple(lengths), f0_range(data, rate)
    )


def summary(setting: Setting, texts: list[str]) -> dict[str, float]:
    engine = EspeakNg(
        voice=setting.voice, words_per_minute=setting.rate, pitch=setting.pitch, word_gap=setting.gap
    )
    clips = [measure(engine, text) for text in texts]
    rates = [c.syllables / c.span_s for c in clips]
    pauses = [p for c in clips for p in c.mark_pauses_s]
    ranges = [c.f0_range_st for c in clips if c.f0_range_st is not None]
    return {
        "rate": statistics.mean(rates),
        "recall": sum(c.hits for c in clips) / max(1, sum(c.marks for c in clips)),
        "extra": sum(c.extra for c in clips) / len(clips),
        "pause_ms": 1000 * statistics.mean(pauses) if pauses else 0.0,
        "f0": statistics.mean(ranges) if ranges else 0.0,
    }


def grid() -> list[tuple[str, list[Setting]]]:
    """Variants at the old settings, then rate, pitch and word gap around the chosen voice, then both."""
    variants = ["vi", "vi-vn-x-central", "vi-vn-x-south", "vi+m3", "vi+f2", "vi+announcer", "vi+klatt3"]
    return [
        ("voice variants (as before: rate 150, pitch 50, gap 0)", [Setting(voice=v) for v in variants]),
        ("rate (vi, pitch 50, gap 0)", [Setting(rate=r) for r in (120, 135, 150, 160, 165, 170, 175, 185)]),
        ("pitch (vi, rate 165, gap 0)", [Setting(rate=165, pitch=p) for p in (30, 35, 40, 50, 60)]),
        ("word gap (vi, rate 165, pitch 40)", [Setting(rate=165, pitch=40, gap=g) for g in (0, 1, 2)]),
        ("before and now (EspeakNg defaults)", [PREVIOUS, CHOSEN]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=12, help="how many corpus sentences to read")
    args = parser.parse_args()
    texts = sentences(args.sentences)
    marks = sum(len(_MARK.findall(t.rstrip(".!?"))) for t in texts)
    print(
        f"{len(texts)} bulletin sentences, {marks} punctuation marks inside them; "
        f"target {TARGET[0]}–{TARGET[1]} syll/s"
    )
    baseline: dict[str, float] | None = None
    for title, settings in grid():
        print(f"\n{title}")
        print(f"{'voice':<18} {'wpm':>4} {'pitch':>5} {'gap':>4} {'syll/s':>7} {'vs before':>9}"
              f" {'in target':>9}"
              f" {'pause recall':>12} {'extra/sent':>10} {'pause ms':>8} {'F0 range st':>11}")  # fmt: skip
        for setting in settings:
            figures = summary(setting, texts)
            baseline = baseline or figures
            inside = "yes" if TARGET[0] <= figures["rate"] <= TARGET[1] else "no"
            print(
                f"{setting.label()} {figures['rate']:>7.2f} {figures['rate'] / baseline['rate']:>9.2f}"
                f" {inside:>9}"
                f" {figures['recall']:>12.0%} {figures['extra']:>10.2f} {figures['pause_ms']:>8.0f}"
                f" {figures['f0']:>11.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
