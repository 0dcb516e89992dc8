"""Turning spans of time into bar segments (percent of a period) for the UI's timeline pictures.

Owns the arithmetic of the pictures only; must not query anything (pages pass the spans in).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Segment:
    """A piece of a bar: `left` and `width` in percent of the period, a CSS kind, a tooltip."""

    left: float
    width: float
    kind: str
    title: str


def segments(
    start: datetime, end: datetime, spans: Iterable[tuple[datetime, datetime, str, str]]
) -> list[Segment]:
    """Spans (start, end, kind, title) clipped to [start, end] as percent segments, in the given order."""
    total = (end - start).total_seconds()
    out: list[Segment] = []
    for span_start, span_end, kind, title in spans:
        lo, hi = max(span_start, start), min(span_end, end)
        if hi <= lo or total <= 0:
            continue
        left = (lo - start).total_seconds() / total * 100
        out.append(Segment(left, (hi - lo).total_seconds() / total * 100, kind, title))
    return out


def filled(spans: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime) -> float:
    """The fraction of [start, end] that the (non-overlapping) spans cover."""
    covered = sum(
        (min(hi, end) - max(lo, start) for lo, hi in spans if min(hi, end) > max(lo, start)), timedelta()
    )
    length = end - start
    return covered / length if length > timedelta(0) else 0.0
