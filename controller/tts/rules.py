"""Our reading rules: written forms g2p-hamster reads wrongly or not at all → Vietnamese words.

Owns the patterns and readers for times and time ranges, dates, document numbers, numbers with Vietnamese
separators, number ranges and ratios, percentages, units after numbers, "per" slashes, phone and hotline
numbers, ordinals and Roman numerals. Pure functions on strings: it must not load dictionaries (the
lexicon runs before these rules) or call g2p-hamster (it runs after them, on what is left).

g2p-hamster 0.2.8 reads "17h - 19h" as "mười bảy giờ - mười chín giờ", "9h-11h" as English, "95,29" as
"chín mươi lăm phẩy hai chín", "1900 9095" as two numbers, "thứ 4" as "thứ bốn", "m2" as "mét hai" and
"đồng/tháng" as "đồng trên tháng"; what we have turned into words passes through it unchanged.
"""

import re
from collections.abc import Callable

from controller.tts import context, numbers
from controller.tts.rules_time import TIME_RULES

Reader = Callable[[re.Match[str]], str | None]

_LEFT = r"(?<![\w.,:/])"
_RIGHT = r"(?![\w:/]|[.,]\d)"
_NUM = r"(?!0\d)(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<frac>\d+))?(?P<pct>\s*%)?(?![\w]|[.,]\d)"
)
_NUMBER_RANGE = re.compile(
    r"(?<![\w.,/:-])(?P<a>" + _NUM + r")\s*[-–—]\s*(?P<b>" + _NUM + r")(?P<pct>\s*%)?" + _RIGHT
)
_RATIO = re.compile(_LEFT + r"(?P<a>" + _NUM + r")\s*/\s*(?P<b>" + _NUM + r")" + _RIGHT)
_DOCUMENT_SERIES = re.compile(_LEFT + r"(?P<n>\d{1,5})/(?=[^\W\d_])")
_HOTLINE = re.compile(r"(?<![\w.,])(?P<a>1[89]00)[ .]?(?P<b>\d{3,4})(?:[ .](?P<c>\d{2,4}))?(?![\w]|[.,]\d)")
# 111 trẻ em, 112 cứu nạn, 113 công an, 114 cứu hỏa, 115 cấp cứu; 1022 and 1080 are province hotlines.
_SHORT_NUMBER = re.compile(r"(?<![\w.,-])(?P<n>11[1-5]|1022|1080)(?![\w/%]|[.,]\d|\s*[-–—]\s*\d)")
_DIALLED = re.compile(r"(?<![\w.,/-])(?P<n>[1-9]\d{2,4})(?![\w/%]|[.,]\d|\s*[-–—]\s*\d)")
# "-1°C", "-3 - -1 độ C": a minus before a temperature, or before the first end of a range of them.
_TEMPERATURE = r"\d[\d.,]*\s*(?:°|độ(?!\w))"
_MINUS = re.compile(
    r"(?:(?<=\s)|(?<=^)|(?<=\())[-−–](?=" + _TEMPERATURE + r"|\d[\d.,]*\s*[-–—]\s*[-−–]?" + _TEMPERATURE + ")"
)
_TO_MINUS = re.compile(r"(?<=\d)\s*[-–—]\s*(?=âm \d)")
# "mm/24h", "mm/24 giờ": an amount over a span of time.
_OVER_HOURS = re.compile(r"(?<=[^\W\d_])\s*/\s*(?P<n>\d{1,3})\s*(?:h|giờ)(?!\w)")
# "Khu 3/Thôn 5", "tổ 2/khu 4": two levels of an address, read with a pause.
_PLACE_SLASH = re.compile(
    r"(?<=\d)\s*/\s*(?=(?i:thôn|bản|xóm|tổ|khu|làng|ấp|khối|xã|phường|huyện|tỉnh)(?!\w))"
)
_ROMAN = re.compile(
    r"(?<!\w)(?i:(?P<key>quý|khóa|khoá|thế kỷ|thế kỉ|đại hội|thứ|chương|phần|mục|phụ lục|giai đoạn|tập|đợt|"
    r"vùng|cấp|hạng|loại|nhóm|kỳ|tiểu khu|khu vực))\s+(?P<r>[IVXLC]+)(?:/(?P<y>\d{4}))?(?![\w/])"
)
_ORDINAL = re.compile(r"(?<!\w)(?P<key>[Tt]hứ)\s+(?P<n>\d{1,2})" + _RIGHT)
_UNITS = {
    "km²": "ki lô mét vuông",
    "km2": "ki lô mét vuông",
    "m²": "mét vuông",
    "m2": "mét vuông",
    "m³": "mét khối",
    "m3": "mét khối",
    "ha": "héc ta",
    "kg": "ki lô gam",
    "km": "ki lô mét",
    "cm": "xăng ti mét",
    "mm": "mi li mét",
    "ml": "mi li lít",
    "m": "mét",
    "°C": "độ xê",
    "°": "độ",
    "đ": "đồng",
    "kWh": "ki lô oát giờ",
}
_UNIT = re.compile(
    r"(?:(?<=\d)|(?<=\d )|(?<=/))(?P<u>"
    + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
    + r")(?![\w²³])"
)
# What follows a "per" slash ("đồng/tháng" → "đồng một tháng"): measures and counted things.
_PER_WORDS = (
    "người|hộ|khẩu|tháng|năm|ngày|tuần|giờ|h|con|cây|suất|lượt|buổi|ca|lần|bao|chiếc|cái|tấn|tạ|"
    "yến|lít|sào|ki lô gam|ki lô mét|mét|héc ta|mét vuông|mét khối|học sinh|cháu|em|hũ|liều|s|giây|phút|"
    "đợt|ki lô oát giờ"
)
_PER_READINGS = {"h": "giờ", "s": "giây"}
_PER = re.compile(r"(?<=[^\W\d_])\s*/\s*(?P<w>" + _PER_WORDS + r")(?!\w)")
# Any other slash between words is a choice or a pair ("thôn/bản", "nam/nữ"): read with a short pause.
_WORD_SLASH = re.compile(r"(?<=[^\W\d_])\s*/\s*(?=[^\W\d_])")


def _said_before(match: re.Match[str], *words: str) -> bool:
    before = match.string[: match.start()].rstrip().lower()
    return any(before.endswith(word) for word in words)


def read_number(written: str) -> str:
    """Read "1.340", "95,29" or "7" as Vietnamese words."""
    integer, _, fraction = written.partition(",")
    return numbers.decimal(integer.replace(".", ""), fraction)


def _number(match: re.Match[str]) -> str | None:
    integer, fraction, percent = match.group("int"), match.group("frac"), match.group("pct")
    if "." not in integer and fraction is None and percent is None:
        return None  # plain integers (and phone numbers) are g2p-hamster's
    words = numbers.decimal(integer.replace(".", ""), fraction or "")
    return f"{words} phần trăm" if percent else words


def _number_range(match: re.Match[str]) -> str:
    words = f"{read_number(match.group('a'))} đến {read_number(match.group('b'))}"
    return f"{words} phần trăm" if match.group("pct") else words


def _ratio(match: re.Match[str]) -> str:
    return f"{read_number(match.group('a'))} trên {read_number(match.group('b'))}"


def _document_series(match: re.Match[str]) -> str | None:
    """Read "số 123/KH-UBND" as "số một trăm hai mươi ba, KH-UBND" (the lexicon reads the series)."""
    return f"{numbers.cardinal(int(match.group('n')))}, " if _said_before(match, "số") else None


def _hotline(match: re.Match[str]) -> str:
    groups = [group for group in match.group("a", "b", "c") if group]
    return ", ".join(numbers.digits(group) for group in groups)


def _short_number(match: re.Match[str]) -> str | None:
    """Emergency lines are said digit by digit wherever they stand, unless they count or number things."""
    if context.counted_after(match) or context.addressed(match):
        return None  # "115 hộ", "nhà số 114"
    return numbers.digits(match.group("n"))


def _dialled(match: re.Match[str]) -> str | None:
    """Any short number introduced as one to call: "tổng đài 1900" is read "một chín không không"."""
    if not context.dialled(match) or context.counted_after(match):
        return None
    return numbers.digits(match.group("n"))


def _over_hours(match: re.Match[str]) -> str:
    return f" trong {numbers.cardinal(int(match.group('n')))} giờ"


def _roman(match: re.Match[str]) -> str | None:
    if match.group("r") in ("C", "L"):
        return None  # "hạng C", "loại L": a grade or a size, not 100 or 50
    value = numbers.roman(match.group("r"))
    if value is None:
        return None
    key = match.group("key")
    words = f"{key} {numbers.ordinal(value) if key.lower() == 'thứ' else numbers.cardinal(value)}"
    year = match.group("y")
    return f"{words} năm {numbers.cardinal(int(year))}" if year else words


def _ordinal(match: re.Match[str]) -> str:
    return f"{match.group('key')} {numbers.ordinal(int(match.group('n')))}"


def _unit(match: re.Match[str]) -> str:
    """Read "12ha" as "12 héc ta": a space after the digits keeps the number readable on its own."""
    glued = match.string[match.start() - 1 : match.start()].isdigit()
    return f"{' ' if glued else ''}{_UNITS[match.group('u')]}"


def _per(match: re.Match[str]) -> str:
    word = match.group("w")
    return f" một {_PER_READINGS.get(word, word)}"


_RULES: tuple[tuple[re.Pattern[str], Reader], ...] = (
    (_ROMAN, _roman),
    (_ORDINAL, _ordinal),
    (_HOTLINE, _hotline),
    (_SHORT_NUMBER, _short_number),
    (_DIALLED, _dialled),
    (_MINUS, lambda _match: "âm "),
    (_TO_MINUS, lambda _match: " đến "),
    (_OVER_HOURS, _over_hours),
    *TIME_RULES,
    (_PLACE_SLASH, lambda _match: ", "),
    (_DOCUMENT_SERIES, _document_series),
    (_UNIT, _unit),
    (_PER, _per),
    (_WORD_SLASH, lambda _match: ", "),
    (_NUMBER_RANGE, _number_range),
    (_RATIO, _ratio),
    (_NUMBER, _number),
)


def apply_rules(text: str) -> str:
    """Our reading rules, most specific first; a reader that declines leaves the text as written."""
    for pattern, reader in _RULES:
        text = pattern.sub(_guarded(reader), text)
    return text


def _guarded(reader: Reader) -> Callable[[re.Match[str]], str]:
    return lambda match: reader(match) or match.group(0)
