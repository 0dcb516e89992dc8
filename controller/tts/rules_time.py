"""Reading rules for times of day, time ranges, dates and dated document numbers.

Owns the patterns and readers that turn "5h30", "17h - 19h", "22/11/2026", "20 - 25/11", "28/11 - 2/12",
"tháng 4/2026" and "số 05/2021/NĐ-CP" into words, and the choice between a date and a count or a fraction
for "a/b" ("10/12 thôn", "1/2 số hộ", from the words around it in `context`); `rules` runs them in its
table. Pure functions on strings: it must not read numbers in other contexts (that is `rules`) nor touch
dictionaries.
"""

import re
from collections.abc import Callable

from controller.tts import context, numbers

_TIME = r"(?P<h{n}>\d{{1,2}})(?:[hH](?P<m{n}>\d{{2}})?|:(?P<c{n}>\d{{2}}))"
_LEFT = r"(?<![\w.,:/])"
_RIGHT = r"(?![\w:/]|[.,]\d)"
_DASH = r"\s*[-–—]\s*"
_TIME_RANGE = re.compile(_LEFT + _TIME.format(n=1) + _DASH + _TIME.format(n=2) + _RIGHT)
_HOUR_RANGE = re.compile(_LEFT + r"(?P<h1>\d{1,2})" + _DASH + _TIME.format(n=2) + _RIGHT)
_ONE_TIME = re.compile(_LEFT + _TIME.format(n=1) + _RIGHT)
_DOCUMENT_NUMBER = re.compile(_LEFT + r"(?P<n>\d{1,4})/(?P<y>\d{4})(?P<tail>/)?")
_DAY_RANGE = re.compile(
    _LEFT + r"(?P<d1>\d{1,2})" + _DASH + r"(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{4}))?" + _RIGHT
)
_DATE = r"(?P<d{n}>\d{{1,2}})/(?P<m{n}>\d{{1,2}})(?:/(?P<y{n}>\d{{4}}))?"
_DATE_RANGE = re.compile(_LEFT + _DATE.format(n=1) + _DASH + r"(?:ngày\s+)?" + _DATE.format(n=2) + _RIGHT)
_FULL_DATE = re.compile(_LEFT + r"(?P<d>\d{1,2})([/-])(?P<m>\d{1,2})\2(?P<y>\d{4})" + _RIGHT)
_MONTH_YEAR = re.compile(_LEFT + r"(?P<m>\d{1,2})/(?P<y>\d{4})" + _RIGHT)
_DAY_MONTH = re.compile(_LEFT + r"(?P<d>\d{1,2})/(?P<m>\d{1,2})" + _RIGHT)


def _said_before(match: re.Match[str], word: str) -> bool:
    return match.string[: match.start()].rstrip().lower().endswith(word)


def _clock(match: re.Match[str], n: int) -> str | None:
    hour = int(match.group(f"h{n}"))
    minute_text = match.groupdict().get(f"m{n}") or match.groupdict().get(f"c{n}")
    minute = int(minute_text) if minute_text else None
    if hour > 24 or (minute is not None and minute > 59):
        return None
    return numbers.clock(hour, minute)


def _time_range(match: re.Match[str]) -> str | None:
    start, end = _clock(match, 1), _clock(match, 2)
    return f"{start} đến {end}" if start and end else None


def _hour_range(match: re.Match[str]) -> str | None:
    end = _clock(match, 2)
    start = int(match.group("h1"))
    return f"{numbers.cardinal(start)} đến {end}" if end and start <= 24 else None


def _one_time(match: re.Match[str]) -> str | None:
    return _clock(match, 1)


def _valid(day: int | None, month: int | None) -> bool:
    return (day is None or 1 <= day <= 31) and (month is None or 1 <= month <= 12)


def _date_of(match: re.Match[str], *, keyword: str | None) -> str | None:
    """Read the date groups d/m/y; drop the leading `keyword` when the text says it just before."""
    found = match.groupdict()
    day, month, year = (int(found[k]) if found.get(k) else None for k in ("d", "m", "y"))
    if not _valid(day, month) or _said_before(match, "số"):
        return None  # "số 05/2021/NĐ-CP" is a document number, not a date
    return numbers.date(day, month, year, lead=keyword is None or not _said_before(match, keyword))


def _day_range(match: re.Match[str]) -> str | None:
    first = int(match.group("d1"))
    rest = _date_of(match, keyword=None)
    if rest is None or not _valid(first, None):
        return None
    lead = "" if _said_before(match, "ngày") else "ngày "
    return f"{lead}{numbers.cardinal(first)} đến {rest}"


def _date_range(match: re.Match[str]) -> str | None:
    """Read "28/11 - 02/12/2026" → "ngày hai mươi tám tháng mười một đến ngày hai tháng mười hai năm ..."."""
    found = [
        tuple(int(match.group(f"{part}{n}")) if match.group(f"{part}{n}") else None for part in "dmy")
        for n in (1, 2)
    ]
    if not all(_valid(day, month) for day, month, _year in found) or _said_before(match, "số"):
        return None
    (d1, m1, y1), (d2, m2, y2) = found
    first = numbers.date(d1, m1, y1, lead=not _said_before(match, "ngày"))
    return f"{first} đến {numbers.date(d2, m2, y2)}"


def _day_month(match: re.Match[str]) -> str | None:
    """Read "25/11" as a date, unless it counts ("10/12 thôn") or is a part of a whole ("1/2 số hộ")."""
    first, second = int(match.group("d")), int(match.group("m"))
    if context.round_the_clock(match):
        return f"{numbers.cardinal(first)} trên {numbers.cardinal(second)}"
    if not _said_before(match, "ngày") and not _said_before(match, "mùng") and not context.dated(match):
        if first < second <= 10 and context.fraction_context(match):
            return f"{numbers.cardinal(first)} phần {numbers.cardinal(second)}"
        if first <= second and context.counted_after(match):
            return f"{numbers.cardinal(first)} trên {numbers.cardinal(second)}"
    return _date_of(match, keyword="ngày")


def _document_number(match: re.Match[str]) -> str | None:
    """Read a document number: "số 05/2021/NĐ-CP" → "số năm năm hai nghìn ... hai mươi mốt, nghị định ..."."""
    if not _said_before(match, "số"):
        return None
    words = f"{numbers.cardinal(int(match.group('n')))} năm {numbers.cardinal(int(match.group('y')))}"
    return f"{words}, " if match.group("tail") else words


TIME_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    (_TIME_RANGE, _time_range),
    (_HOUR_RANGE, _hour_range),
    (_ONE_TIME, _one_time),
    (_DOCUMENT_NUMBER, _document_number),
    (_DATE_RANGE, _date_range),
    (_DAY_RANGE, _day_range),
    (_FULL_DATE, lambda m: _date_of(m, keyword="ngày")),
    (_MONTH_YEAR, lambda m: _date_of(m, keyword="tháng")),
    (_DAY_MONTH, _day_month),
)
