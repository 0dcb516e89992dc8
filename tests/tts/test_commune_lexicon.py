"""The commune's dictionary file: written atomically, read back exactly, picked up at once, errors named."""

from pathlib import Path

import pytest

from controller.tts import LexiconError, normalize_text
from controller.tts.commune_lexicon import commune_file, commune_lexicon, load_view, replace_commune_entries
from controller.tts.lexicon import Entry, load_lexicon


def test_entries_round_trip_through_the_file(tmp_path: Path) -> None:
    tricky = [
        Entry('Bản "Lìm"', "bản Lìm", "place"),
        Entry("A\\B", "a bê", "abbreviation"),
        Entry("TL", "Tú Lệ", "place"),
        Entry("UBND", "ủy ban", "abbreviation"),
    ]
    view = replace_commune_entries(tmp_path, tricky)
    assert sorted(view.commune, key=lambda e: e.key) == sorted(tricky, key=lambda e: e.key)
    assert load_lexicon(extra=commune_file(tmp_path)).entries == view.lexicon.entries
    assert [p.name for p in tmp_path.iterdir()] == ["lexicon.toml"]  # no temporary file left


def test_an_edit_is_seen_by_the_next_reading(tmp_path: Path) -> None:
    packaged = commune_lexicon(tmp_path)
    assert normalize_text("TL, UBND.", packaged).text == "T L, ủy ban nhân dân."  # spelled out
    replace_commune_entries(tmp_path, [Entry("TL", "Tú Lệ", "place")])
    first = commune_lexicon(tmp_path)
    assert normalize_text("TL, UBND.", first).text == "Tú Lệ, ủy ban nhân dân."
    replace_commune_entries(tmp_path, [Entry("TL", "Tà Lù", "place")])  # same size, same second
    second = commune_lexicon(tmp_path)
    assert normalize_text("TL.", second).text == "Tà Lù."
    assert len({packaged.version, first.version, second.version}) == 3
    assert commune_lexicon(tmp_path) is second  # unchanged file: the cached lexicon


def test_hand_edited_file_that_breaks_names_file_and_entry(tmp_path: Path) -> None:
    commune_file(tmp_path).write_text('[places]\n"TL" = "Tú Lệ 2"\n', encoding="utf-8")
    with pytest.raises(LexiconError, match=r"lexicon\.toml: \[places\] 'TL': .*hãy viết số thành chữ"):
        load_view(tmp_path)
