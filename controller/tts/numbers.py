"""Vietnamese number words: cardinals, decimals with a comma, times and dates.

Owns the spelling of numbers only (pure functions on strings and ints); it knows nothing of where numbers
appear in a text, which is `normalize`'s job. Conventions follow g2p-hamster's, so a bulletin never mixes
"lẻ" and "linh": 105 → "một trăm lẻ năm", 2026 → "hai nghìn không trăm hai mươi sáu".
"""

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ("", "nghìn", "triệu", "tỷ")


def _below_hundred(n: int) -> str:
    tens, unit = divmod(n, 10)
    if tens == 0:
        return _DIGITS[unit]
    head = "mười" if tens == 1 else f"{_DIGITS[tens]} mươi"
    if unit == 0:
        return head
    if unit == 5:
        return f"{head} lăm"
    if unit == 1 and tens > 1:
        return f"{head} mốt"
    return f"{head} {_DIGITS[unit]}"


def _below_thousand(n: int, *, full: bool) -> str:
    """Read 0..999; `full` reads a leading "không trăm" / "lẻ" when a higher group came before."""
    hundreds, rest = divmod(n, 100)
    if hundreds == 0 and not full:
        return _below_hundred(rest)
    words = f"{_DIGITS[hundreds]} trăm"
    if rest == 0:
        return words
    if rest < 10:
        return f"{words} lẻ {_DIGITS[rest]}"
    return f"{words} {_below_hundred(rest)}"


def cardinal(n: int) -> str:
    """Read a non-negative integer: 1340 → "một nghìn ba trăm bốn mươi"."""
    if n < 0:
        raise ValueError(f"cardinal() reads non-negative numbers, got {n}")
    if n == 0:
        return _DIGITS[0]
    billions, rest = divmod(n, 10**9)
    if billions:
        head = f"{cardinal(billions)} tỷ"
        return head if rest == 0 else f"{head} {_below_billion(rest, full=True)}"
    return _below_billion(rest, full=False)


def _below_billion(n: int, *, full: bool) -> str:
    groups = [(n // 10**6) % 1000, (n // 1000) % 1000, n % 1000]
    words: list[str] = []
    for index, group in enumerate(groups):
        scale = _SCALES[2 - index]
        if group == 0:
            continue
        words.append(_below_thousand(group, full=full or bool(words)))
        if scale:
            words.append(scale)
    return " ".join(words)


def digits(text: str) -> str:
    """Read digit by digit: "0912" → "không chín một hai"."""
    return " ".join(_DIGITS[int(d)] for d in text)


def decimal(integer_part: str, fraction: str = "") -> str:
    """Read a number written the Vietnamese way, "95" + "29" → "chín mươi lăm phẩy hai mươi chín".

    A fraction of up to three digits is read as a number after its leading zeros ("3,05" → "ba phẩy không
    năm"); a longer one digit by digit, as people read it aloud.
    """
    words = cardinal(int(integer_part))
    if not fraction:
        return words
    if len(fraction) > 3:
        return f"{words} phẩy {digits(fraction)}"
    stripped = fraction.lstrip("0")
    zeros = ["không"] * (len(fraction) - len(stripped))
    tail = [cardinal(int(stripped))] if stripped else []
    return " ".join([words, "phẩy", *zeros, *tail])


def clock(hour: int, minute: int | None = None) -> str:
    """Read a time of day: (5, 30) → "năm giờ ba mươi"; (5, 5) → "năm giờ năm phút"."""
    words = f"{cardinal(hour)} giờ"
    if not minute:
        return words
    return f"{words} {cardinal(minute)} phút" if minute < 10 else f"{words} {cardinal(minute)}"


def date(day: int | None, month: int | None, year: int | None, *, lead: bool = True) -> str:
    """Read a date: (22, 11, 2026) → "ngày hai mươi hai tháng mười một năm hai nghìn ...".

    April reads "tháng tư", as people say it.
    `lead=False` drops the first keyword ("ngày" or "tháng") when the text already says it.
    """
    parts: list[str] = []
    if day is not None:
        parts.append(f"ngày {cardinal(day)}")
    if month is not None:
        parts.append(f"tháng {'tư' if month == 4 else cardinal(month)}")
    if year is not None:
        parts.append(f"năm {cardinal(year)}")
    words = " ".join(parts)
    return words if lead else words.split(" ", 1)[1]


_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def roman(text: str) -> int | None:
    """The value of a well-formed Roman numeral up to 399 ("XIII" → 13), or None ("IIII", "IC", "VX")."""
    if not text or any(ch not in _ROMAN_VALUES for ch in text):
        return None
    total = 0
    for ch, following in zip(text, [*text[1:], ""], strict=True):
        value = _ROMAN_VALUES[ch]
        total += -value if following and _ROMAN_VALUES[following] > value else value
    return total if 0 < total < 400 and _to_roman(total) == text else None


def _to_roman(n: int) -> str:
    parts = []
    for value, symbol in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V")):
        count, n = divmod(n, value)
        parts.append(symbol * count)
    return "".join(parts) + ("IV" if n == 4 else "I" * n)


def ordinal(n: int) -> str:
    """Read a number after "thứ": 1 → "nhất", 4 → "tư", others as cardinals ("thứ hai", "thứ mười")."""
    return {1: "nhất", 4: "tư"}.get(n, cardinal(n))
