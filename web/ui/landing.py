"""Where a new bulletin would land: the next window as a bar, with what it already holds.

The new bulletin's slot is estimated after what its busiest target already plays in that window.

Owns that estimate for the compose page (the planner decides for real after approval). Reads the
runtime's `planning_preview` hook when it is wired; must not plan or change anything itself.
"""

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta

from controller.planning import WindowOccurrence, current_or_next
from web.context import web_context
from web.ui import common
from web.ui.timeline import Segment, segments

# Speech runs at about 14 characters a second; good enough to draw the bar before a preview exists.
CHARS_PER_SECOND = 14
LEAD = timedelta(seconds=60)
GAP = timedelta(seconds=3)


@dataclass(frozen=True)
class Landing:
    """The next window, its bar segments, and the estimated start and end of the new bulletin."""

    window: WindowOccurrence
    segments: list[Segment]
    start: datetime
    end: datetime
    fits: bool


def estimate_ms(text: str) -> int:
    """A rough reading time of `text`, at least two seconds."""
    return max(2000, int(len(text.strip()) / CHARS_PER_SECOND * 1000))


def next_window(length_ms: int, wanted: Set[str]) -> Landing:
    """The picture of the next window with the new bulletin after what its busiest target already has.

    `wanted` holds the ids of the clusters the bulletin's targets reach (web.ui.targets.reached).
    """
    now = common.now()
    window = current_or_next(common.schedule(), now + LEAD)
    busy: dict[tuple[datetime, datetime], str] = {}
    hook = web_context().planning_preview
    if hook is not None:
        for placement in hook().placements:
            if placement.window.key == window.key and placement.device_id in wanted:
                busy[(placement.planned_start, placement.planned_end)] = f"#{placement.bulletin_id}"
    start = max([window.start, now + LEAD, *(end + GAP for _, end in busy)])
    end = start + timedelta(milliseconds=length_ms)
    spans = [(lo, hi, "busy", f"Bản tin {title}") for (lo, hi), title in sorted(busy.items())]
    spans.append((start, end, "new", "Bản tin mới"))
    return Landing(window, segments(window.start, window.end, spans), start, end, end <= window.end)
