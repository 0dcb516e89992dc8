"""The dictionary of abbreviations and place names read aloud in bulletins (TOML files, DESIGN §6).

Owns the file layout, checking entries, merging the packaged file with the commune's own (its entries
win), the dictionary's version and replacing its keys in a text. It must not touch numbers, dates or any
other reading rule (that is `rules`), nor write files (that is `commune_lexicon`).
"""

import hashlib
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from controller.i18n import Message

DEFAULT_LEXICON = Path(__file__).with_name("abbreviations.toml")
Kind = Literal["abbreviation", "place"]
KINDS: dict[str, Kind] = {"abbreviations": "abbreviation", "places": "place"}  # TOML table → kind
MAX_KEY_CHARS = 40
MAX_READING_CHARS = 200


class LexiconError(ValueError):
    """The dictionary file cannot be read or has entries of the wrong shape."""


@dataclass(frozen=True)
class Entry:
    """One dictionary line: the written form, how to read it, and its kind (abbreviation or place)."""

    key: str
    reading: str
    kind: Kind = "abbreviation"


@dataclass(frozen=True)
class Lexicon:
    """Whole-word, case-sensitive replacements; the longest key wins where keys overlap.

    Keys joined by "&" or "." are read one by one ("PCTT&TKCN" → "phòng chống thiên tai và tìm kiếm cứu
    nạn"), but only when every part is a key: "KH&ĐT" must not become "KH và điện thoại".
    """

    entries: Mapping[str, str]
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _key: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = sorted(self.entries, key=len, reverse=True)
        alternation = "|".join(re.escape(key) for key in keys)
        # \w covers Vietnamese letters, so "UBND" never matches inside "UBNDX" or "xUBND".
        chain = rf"(?<![\w&])(?:{alternation})(?:[&.](?:{alternation}))*(?![\w&])"
        object.__setattr__(self, "_pattern", re.compile(chain if keys else r"(?!x)x"))
        object.__setattr__(self, "_key", re.compile(f"(?:{alternation})" if keys else r"(?!x)x"))

    @property
    def version(self) -> str:
        """A short digest of every entry: it changes with any edit, so renders can key their cache on it."""
        canonical = json.dumps(sorted(self.entries.items()), ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def apply(self, text: str) -> str:
        """Replace every dictionary key in `text` by its reading."""
        return self._pattern.sub(self._read, text)

    def _read(self, match: re.Match[str]) -> str:
        written = match.group(0)
        if written in self.entries:
            return self.entries[written]
        words, position = [], 0
        while (key := self._key.match(written, position)) is not None:
            words.append(self.entries[key.group(0)])
            position = key.end()
            if position >= len(written):
                return "".join(words)
            words.append(" và " if written[position] == "&" else " ")
            position += 1
        return written  # the chain splits only another way round; leave it as written


def check_entry(key: str, reading: str) -> list[Message]:
    """What is wrong with one entry, as sentences a person can act on (empty when it is fine)."""
    problems = []
    if not key.strip() or key != key.strip() or not any(ch.isalnum() for ch in key):
        problems.append(Message("the written form needs a letter or digit, and no spaces at its ends"))
    if len(key) > MAX_KEY_CHARS:
        problems.append(
            Message(
                "the written form has {length} characters; at most {limit} are allowed",
                length=len(key),
                limit=MAX_KEY_CHARS,
            )
        )
    if not any(ch.isalpha() for ch in reading):
        problems.append(Message("the reading is empty: write how the words are said ('ủy ban nhân dân')"))
    if any(ch.isdigit() for ch in reading):
        problems.append(
            Message(
                "the reading {reading} has digits: write numbers in words ('bốn gờ', not '4 gờ')",
                reading=repr(reading[:60]),
            )
        )
    if len(reading) > MAX_READING_CHARS:
        problems.append(
            Message(
                "the reading has {length} characters; at most {limit} are allowed",
                length=len(reading),
                limit=MAX_READING_CHARS,
            )
        )
    if any(unicodedata.category(ch)[0] == "C" for ch in key + reading):
        problems.append(Message("remove the line breaks and control characters"))
    return problems


def read_entries(path: Path) -> list[Entry]:
    """Every entry of one dictionary file, checked; LexiconError names the file and the bad line."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise LexiconError(f"cannot read the abbreviation dictionary {path}: {error}") from error
    entries: list[Entry] = []
    for table, kind in KINDS.items():
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise LexiconError(f'{path}: [{table}] must be a table of "key" = "reading" lines')
        for key, value in section.items():
            if not isinstance(value, str):
                raise LexiconError(f"{path}: [{table}] {key!r} needs a non-empty reading in quotes")
            problems = check_entry(key, value.strip())
            if problems:
                raise LexiconError(f"{path}: [{table}] {key!r}: {'; '.join(map(str, problems))}")
            entries.append(Entry(key, value.strip(), kind))
    return entries


def merge(*layers: Iterable[Entry]) -> Lexicon:
    """One lexicon from layers of entries; a later layer's entry replaces an earlier one with its key."""
    return Lexicon({entry.key: entry.reading for layer in layers for entry in layer})


def load_lexicon(path: Path = DEFAULT_LEXICON, extra: Path | None = None) -> Lexicon:
    """Load the packaged dictionary, then the commune's own file (its entries win)."""
    return merge(read_entries(path), read_entries(extra) if extra is not None else ())
