"""The seven families of misreadings a second held-out corpus found (issue 19), each in several contexts.

Every case lists the readings a native listener accepts; the comparison ignores case and spacing, as the
corpus test does. The "lookalike" cases pin what must not change (dates, times, counts).
"""

import csv
import re
from pathlib import Path

import pytest

from controller.tts import load_lexicon, normalize_text

_SPACES = re.compile(r"\s+")


def reads(text: str, *accepted: str) -> None:
    """`text` reads as one of `accepted` (case and spacing ignored)."""
    read = _SPACES.sub(" ", normalize_text(text).text).strip().lower()
    assert read in {_SPACES.sub(" ", a).strip().lower() for a in accepted}, read


FAMILIES = Path(__file__).resolve().parent.parent / "data" / "reading_families.tsv"


def load_cases() -> list[tuple[str, str, tuple[str, ...]]]:
    """(family, text, accepted readings) for every line of the families file."""
    with FAMILIES.open(encoding="utf-8", newline="") as file:
        rows = csv.reader((line for line in file if not line.startswith("#")), delimiter="\t")
        return [(family, text, tuple(accepted.split(" | "))) for family, text, accepted in rows]


CASES = load_cases()


@pytest.mark.parametrize(
    ("family", "text", "accepted"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_reads_each_family(family: str, text: str, accepted: tuple[str, ...]) -> None:
    reads(text, *accepted)


def test_every_family_has_several_cases() -> None:
    families = [family for family, _text, _accepted in CASES]
    for family in ("emergency", "abbreviation", "unit", "slash", "date-range", "address", "fraction"):
        assert families.count(family) >= 4, family


def test_final_full_stop_after_an_address_is_a_pause_not_a_dot() -> None:
    result = normalize_text("Xem tại dichvucong.gov.vn. Xin cảm ơn.")
    assert result.sentences == ("Xem tại dịch vụ công chấm gờ o vê chấm vê nờ.", "Xin cảm ơn.")


def test_the_communes_places_teach_the_address_reader(tmp_path: Path) -> None:
    extra = tmp_path / "lexicon.toml"
    extra.write_text('[places]\n"NL" = "Nậm Lành"\n', encoding="utf-8")
    read = normalize_text("Xem namlanh.vanchan.yenbai.gov.vn.", load_lexicon(extra=extra)).text
    assert read == "Xem nậm lành chấm văn chấn chấm yên bái chấm gờ o vê chấm vê nờ."


def test_an_address_of_unknown_words_is_spelled() -> None:
    reads("Xem qwz.vn.", "Xem quy vê kép dét chấm vê nờ.")


def test_joined_abbreviations_fire_only_when_every_part_is_known() -> None:
    reads("Sở KHX&ĐT.", "Sở KHX&ĐT.")
