"""Bulletin text → the words to read aloud, split into sentences for synthesis (DESIGN §6 steps 1–2).

Owns cleaning (NFC, whitespace, limits), our reading rules (times, time ranges, dates, numbers written with
Vietnamese separators, percentages) and the hand-off to g2p-hamster's rule-based normalizer for the rest
(phone numbers, units, plain numbers, symbols). It must not synthesize audio or touch files other than the
abbreviation dictionary it is given.

Our rules run first because g2p-hamster 0.2.8 reads "17h - 19h" as "mười bảy giờ - mười chín giờ",
"9h-11h" as English, "95,29" as "chín mươi lăm phẩy hai chín"; what we have turned into words passes
through it unchanged.
"""

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from controller.tts import numbers
from controller.tts.errors import TextRejected
from controller.tts.lexicon import Lexicon, load_lexicon

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 5000  # about six minutes of speech: longer bulletins are two bulletins

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
_FULL_DATE = re.compile(_LEFT + r"(?P<d>\d{1,2})([/-])(?P<m>\d{1,2})\2(?P<y>\d{4})" + _RIGHT)
_MONTH_YEAR = re.compile(_LEFT + r"(?P<m>\d{1,2})/(?P<y>\d{4})" + _RIGHT)
_DAY_MONTH = re.compile(_LEFT + r"(?P<d>\d{1,2})/(?P<m>\d{1,2})" + _RIGHT)
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<frac>\d+))?(?P<pct>\s*%)?(?![\w]|[.,]\d)"
)
_NUMBER_SLASH = re.compile(r"(\d)\s*/\s*(\d)")
_DIGIT_RUN = re.compile(r"\d{1,12}")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SPACES = re.compile(r"[^\S\n]+")


@dataclass(frozen=True)
class NormalizedText:
    """What will be read: the whole text (shown in the UI preview) and its sentences, in order."""

    text: str
    sentences: tuple[str, ...]


def clean_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """NFC, no control characters, paragraphs ended by punctuation; reject empty or too long text."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    lines = [line for line in (_SPACES.sub(" ", line).strip() for line in text.split("\n")) if line]
    cleaned = " ".join(lines)
    if not any(ch.isalnum() for ch in cleaned):
        raise TextRejected("The bulletin text is empty: write the words to read aloud (Vietnamese).")
    if len(cleaned) > max_chars:
        raise TextRejected(
            f"The bulletin text has {len(cleaned)} characters; the limit is {max_chars}. "
            "Shorten it or split it into two bulletins."
        )
    # A paragraph without final punctuation still ends a sentence (a pause, a split for synthesis).
    return " ".join(line if line[-1] in ".!?…:;," else f"{line}." for line in lines)


def normalize_text(
    text: str, lexicon: Lexicon | None = None, max_chars: int = MAX_TEXT_CHARS
) -> NormalizedText:
    """Clean `text` and turn it into readable Vietnamese words, split into sentences."""
    cleaned = clean_text(text, max_chars)
    words = apply_rules((lexicon or default_lexicon()).apply(cleaned))
    words = _SPACES.sub(" ", _g2p_read(words)).strip()
    sentences = tuple(s for s in _SENTENCE_END.split(words) if any(ch.isalnum() for ch in s))
    if not sentences:
        raise TextRejected(f"Nothing left to read in {text[:80]!r} after normalization; write it in words.")
    return NormalizedText(" ".join(sentences), sentences)


@cache
def default_lexicon() -> Lexicon:
    """The packaged abbreviation dictionary, loaded once."""
    return load_lexicon()


def apply_rules(text: str) -> str:
    """Our reading rules, most specific first: time ranges, times, dates, separated numbers, percentages."""
    for pattern, reader in _RULES:
        text = pattern.sub(_guarded(reader), text)
    return text


def _guarded(reader: Callable[[re.Match[str]], str | None]) -> Callable[[re.Match[str]], str]:
    """Leave the match as written when the reader declines it (e.g. 25h, 32/13)."""
    return lambda match: reader(match) or match.group(0)


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


def _document_number(match: re.Match[str]) -> str | None:
    """Read a document number: "số 05/2021/NĐ-CP" → "số năm năm hai nghìn ... hai mươi mốt, nghị định ..."."""
    if not _said_before(match, "số"):
        return None
    words = f"{numbers.cardinal(int(match.group('n')))} năm {numbers.cardinal(int(match.group('y')))}"
    return f"{words}, " if match.group("tail") else words


def _number(match: re.Match[str]) -> str | None:
    integer, fraction, percent = match.group("int"), match.group("frac"), match.group("pct")
    if "." not in integer and fraction is None and percent is None:
        return None  # plain integers (and phone numbers) are g2p-hamster's
    words = numbers.decimal(integer.replace(".", ""), fraction or "")
    return f"{words} phần trăm" if percent else words


_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    (_TIME_RANGE, _time_range),
    (_HOUR_RANGE, _hour_range),
    (_ONE_TIME, _one_time),
    (_DOCUMENT_NUMBER, _document_number),
    (_DAY_RANGE, _day_range),
    (_FULL_DATE, lambda m: _date_of(m, keyword="ngày")),
    (_MONTH_YEAR, lambda m: _date_of(m, keyword="tháng")),
    (_DAY_MONTH, lambda m: _date_of(m, keyword="ngày")),
    (_NUMBER, _number),
)


def _g2p_read(text: str) -> str:
    """g2p-hamster's rule-based normalizer (deterministic, ~1 ms a sentence once its tables are loaded)."""
    from g2p_hamster.t0 import normalize as g2p_normalize

    try:
        read = str(g2p_normalize(text)["read_string"])
    # A third-party normalizer on free text: whatever it raises, reading our own words beats failing.
    except Exception:
        log.warning("g2p-hamster failed on %r; reading our own normalization", text[:80], exc_info=True)
        return spell_leftover_numbers(text)
    if not any(ch.isalnum() for ch in read):
        log.warning("g2p-hamster dropped all of %r; reading our own normalization", text[:80])
        return spell_leftover_numbers(text)
    return read


def spell_leftover_numbers(text: str) -> str:
    """Last resort when g2p-hamster fails: any digits left become words, "a/b" reads "a trên b"."""
    text = _NUMBER_SLASH.sub(r"\1 trên \2", text)
    return _DIGIT_RUN.sub(
        lambda m: (
            numbers.digits(m.group(0)) if m.group(0).startswith("0") else numbers.cardinal(int(m.group(0)))
        ),
        text,
    )
