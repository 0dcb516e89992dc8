"""Plan item ids, built and read only here: `b{bulletin}[.{revision}]-{placement}-{language}[-{repeat}]`.

An id names one play of one language version of one placement, so an agent never plays an id twice and
an edit of an approved bulletin (a new revision) gets new ids. `placement` is a window occurrence key
(`2026-12-06-morning`) or `emergency`.
"""

import re
from typing import Final

_BULLETIN: Final = re.compile(r"b(\d+)(?:\.\d+)?(?:-|$)")


def item_id(bulletin_id: int, revision: int, placement: str, language: str, repeat_index: int = 0) -> str:
    """The id of the `repeat_index`-th play (0 = first) of a version placed at `placement`."""
    prefix = f"b{bulletin_id}" + (f".{revision}" if revision else "")
    return f"{prefix}-{placement}-{language}" + (f"-{repeat_index + 1}" if repeat_index else "")


def bulletin_of(item: str) -> int | None:
    """The bulletin an item id belongs to, or None for an id loaxa did not build (e.g. a test tone)."""
    match = _BULLETIN.match(item)
    return int(match.group(1)) if match else None
