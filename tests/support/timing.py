"""Timeouts of waits for what the schedule places: derived from the window, never a fixed guess.

A fixed timeout fails whenever set-up runs faster or slower than assumed (issue 20, item 18: "timed out
after 20 s waiting for the window open for a few seconds" on a loaded machine, passing alone).
"""

from datetime import UTC, datetime


def seconds_until(moment: datetime, extra_s: float = 10.0) -> float:
    """How long to wait for something due by `moment`: the time left until it, plus `extra_s` of slack."""
    return max(0.0, (moment - datetime.now(UTC)).total_seconds()) + extra_s
