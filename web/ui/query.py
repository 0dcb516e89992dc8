"""Reading the UI's query strings: numbers and dates within bounds, anything else the page's default.

Owns turning `request.args` values into page numbers, counts, ids and local dates (months: ui.monthly).
A link can carry any text, so an unreadable or out-of-range value falls back to the default instead of
reaching SQL or date arithmetic (issue 20: a page number of 10^20 or a date in 9999 answered 500). It
must not query anything.
"""

from datetime import date

from flask import request

from controller.planning.options import EARLIEST_DATE, LATEST_DATE

MAX_ID = 2**63 - 1  # SQL BIGINT
MAX_PAGE = 100_000
MAX_MINUTES = 366 * 24 * 60


def number(name: str, default: int, low: int, high: int) -> int:
    """A whole number clamped to [low, high]; `default` when absent or not a number."""
    value = request.args.get(name, type=int)
    return default if value is None else min(max(value, low), high)


def optional_id(name: str) -> int | None:
    """A record id (1 … 2^63−1), or None when absent, not a number or out of range."""
    value = request.args.get(name, type=int)
    return value if value is not None and 1 <= value <= MAX_ID else None


def day(name: str) -> date | None:
    """A local date YYYY-MM-DD within the dates schedules may name, or None."""
    text = request.args.get(name)
    try:
        value = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return value if value is not None and EARLIEST_DATE <= value <= LATEST_DATE else None
