"""Which CAP `language` (RFC 3066 / BCP 47 tag) is which village language in loaxa.

Owns the table (docs/cap.md): villages name their languages with loaxa's short codes (vi, thai, mong, dao);
CAP info blocks carry language tags. Thái is Tai Dam `blt` or Tai Dón `tyj`, Mông is `hmn` (and the
varieties `mww`, `hnj`), Dao is Iu Mien `ium` (and Kim Mun `mji`); the private-use tags `x-thai`,
`x-mong`, `x-dao` are accepted from sources that have no better code.
"""

from typing import Final

_TAGS: Final = {
    "vi": "vi",
    "blt": "thai",
    "tyj": "thai",
    "x-thai": "thai",
    "hmn": "mong",
    "mww": "mong",
    "hnj": "mong",
    "x-mong": "mong",
    "ium": "dao",
    "mji": "dao",
    "x-dao": "dao",
}


def village_language(tag: str) -> str | None:
    """Loaxa's language code for a CAP language tag (its primary subtag decides), or None when unknown."""
    lowered = tag.strip().lower()
    if lowered in _TAGS:
        return _TAGS[lowered]
    return _TAGS.get(lowered.split("-", 1)[0])


def cap_language(language: str) -> str:
    """The CAP language tag loaxa writes for one of its village languages (vi-VN for Vietnamese)."""
    reverse = {"vi": "vi-VN", "thai": "blt", "mong": "hmn", "dao": "ium"}
    return reverse.get(language, f"x-{language}")
