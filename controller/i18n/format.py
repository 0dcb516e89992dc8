"""Numbers, sizes, shares, durations and dates the Vietnamese way: "77,3 GB", "99,3%", "2 phút 5 giây".

Babel's CLDR data for `vi` supplies the decimal comma and the dot between thousands; the units are
decimal (1 GB = 1,000,000,000 bytes), as disks and phones label them.
"""

from datetime import datetime, timedelta, tzinfo
from typing import Final

from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal as babel_decimal
from babel.numbers import format_percent as babel_percent

from controller.i18n._catalog import DEFAULT_LOCALE

MISSING: Final = "—"
_UNITS: Final = ("byte", "kB", "MB", "GB", "TB", "PB")
MEBIBYTE: Final = 2**20


def format_decimal(value: float, digits: int = 1, locale: str = DEFAULT_LOCALE) -> str:
    """`value` with at most `digits` decimals and the locale's separators: 77334.5 → "77.334,5"."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return babel_decimal(value, format=pattern, locale=locale)


def format_bytes(size: float | None, locale: str = DEFAULT_LOCALE) -> str:
    """A size in bytes in the largest decimal unit that keeps it ≥ 1: 77_334_000_000 → "77,3 GB"."""
    if size is None:
        return MISSING
    value, unit = float(size), 0
    while abs(value) >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    return f"{format_decimal(value, 0 if unit == 0 else 1, locale)} {_UNITS[unit]}"


def format_megabytes(mebibytes: float | None, locale: str = DEFAULT_LOCALE) -> str:
    """A size the agent reports in MiB (`disk_free_mb`, DESIGN §5), as `format_bytes` says it."""
    return MISSING if mebibytes is None else format_bytes(float(mebibytes) * MEBIBYTE, locale)


def format_percent(fraction: float | None, locale: str = DEFAULT_LOCALE) -> str:
    """A share with one decimal: 0.993 → "99,3%"."""
    return MISSING if fraction is None else babel_percent(fraction, "#,##0.0%", locale=locale)


def format_duration(length: timedelta | float | None) -> str:
    """A length of time in Vietnamese words, two largest units: 125 s → "2 phút 5 giây"."""
    if length is None:
        return MISSING
    seconds = round(length.total_seconds() if isinstance(length, timedelta) else length)
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds} s")
    parts = []
    for size, word in ((86400, "ngày"), (3600, "giờ"), (60, "phút"), (1, "giây")):
        if seconds >= size:
            parts.append(f"{seconds // size} {word}")
            seconds %= size
    return " ".join(parts[:2]) or "0 giây"


def format_datetime(moment: datetime | None, zone: tzinfo, locale: str = DEFAULT_LOCALE) -> str:
    """A moment in `zone`, day first: "7/12/2026 05:00"."""
    if moment is None:
        return MISSING
    return babel_datetime(moment, "d/M/yyyy HH:mm", tzinfo=zone, locale=locale)
