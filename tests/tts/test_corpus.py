"""The normalizer against the bulletin corpus in tests/data: reports its accuracy and bounds it."""

import csv
import re
from pathlib import Path

from controller.tts import normalize_text

CORPUS = Path(__file__).resolve().parent.parent / "data" / "normalizer_corpus.tsv"
MIN_ACCURACY = 0.95
MIN_CASES = 150
_SPACES = re.compile(r"\s+")


def load_corpus(path: Path = CORPUS) -> list[tuple[str, str, str]]:
    """(category, text, expected reading) for every case in the corpus file."""
    with path.open(encoding="utf-8", newline="") as file:
        rows = csv.reader((line for line in file if not line.startswith("#")), delimiter="\t")
        return [(category, text, expected) for category, text, expected in rows]


def canonical(reading: str) -> str:
    """Case and spacing do not change what a listener hears; words and punctuation (pauses) do."""
    return _SPACES.sub(" ", reading).strip().lower()


def test_corpus_accuracy() -> None:
    cases = load_corpus()
    assert len(cases) >= MIN_CASES
    misses = [
        (category, text, expected, read)
        for category, text, expected in cases
        if canonical(read := normalize_text(text).text) != canonical(expected)
    ]
    accuracy = 1 - len(misses) / len(cases)
    print(f"\nnormalizer corpus: {len(cases) - len(misses)}/{len(cases)} exact = {accuracy:.1%}")
    for category, text, expected, read in misses:
        print(f"  [{category}] {text!r}\n     expected {expected!r}\n     read     {read!r}")
    assert accuracy >= MIN_ACCURACY, f"corpus accuracy {accuracy:.1%} < {MIN_ACCURACY:.0%}"
