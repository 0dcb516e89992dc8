"""The commune-editable dictionary of abbreviations and place names (a TOML file, DESIGN §6).

Owns loading the dictionary and replacing its keys in a text; it must not touch numbers, dates or any
other reading rule (that is `normalize`'s job).
"""

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_LEXICON = Path(__file__).with_name("abbreviations.toml")
_TABLES = ("abbreviations", "places")


class LexiconError(ValueError):
    """The dictionary file cannot be read or has entries of the wrong shape."""


@dataclass(frozen=True)
class Lexicon:
    """Whole-word, case-sensitive replacements; the longest key wins where keys overlap."""

    entries: Mapping[str, str]
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = sorted(self.entries, key=len, reverse=True)
        alternation = "|".join(re.escape(key) for key in keys)
        # \w covers Vietnamese letters, so "UBND" never matches inside "UBNDX" or "xUBND".
        pattern = rf"(?<![\w&])(?:{alternation})(?![\w&])" if keys else r"(?!x)x"
        object.__setattr__(self, "_pattern", re.compile(pattern))

    def apply(self, text: str) -> str:
        """Replace every dictionary key in `text` by its reading."""
        return self._pattern.sub(lambda match: self.entries[match.group(0)], text)


def load_lexicon(path: Path = DEFAULT_LEXICON, extra: Path | None = None) -> Lexicon:
    """Load the packaged dictionary, then the commune's own file (its entries win)."""
    entries = _read(path)
    if extra is not None:
        entries.update(_read(extra))
    return Lexicon(entries)


def _read(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise LexiconError(f"cannot read the abbreviation dictionary {path}: {error}") from error
    entries: dict[str, str] = {}
    for table in _TABLES:
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise LexiconError(f'{path}: [{table}] must be a table of "key" = "reading" lines')
        for key, value in section.items():
            if not isinstance(value, str) or not value.strip() or not key.strip():
                raise LexiconError(f"{path}: [{table}] {key!r} needs a non-empty reading in quotes")
            entries[key] = value.strip()
    return entries
