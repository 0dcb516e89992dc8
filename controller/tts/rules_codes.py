"""Written codes the dictionary must not see: web and e-mail addresses, and road numbers.

Owns reading "dichvucong.gov.vn", "ubnd@yenbai.gov.vn" and "ĐT.174", "QL32", "ĐH 12" aloud. These run before
the dictionary (`normalize` calls `read_codes` first), because inside them a dictionary key is not an
abbreviation ("ĐT" in "ĐT.174" is a provincial road, not "điện thoại"). Pure functions on strings: it must
not read numbers elsewhere (that is `rules`) nor load dictionaries (it is given the words to look for).

Vietnamese words in a domain are written without tones or spaces ("dichvucong"); they are split into the
words we know (a small packaged list plus every reading of the commune's dictionary, so a commune that
adds "Tú Lệ" also gets "tule.yenbai.gov.vn" right) and read with their tones. Where a part is no known
word but is still made of Vietnamese syllables ("vanphong"), those are read without tones, which a
listener still recognizes; a web word ("gov", "vn", "zalo") has its fixed reading; anything else is read
letter by letter.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from controller.tts import numbers

# Words that appear in the addresses bulletins give: public services, provinces, offices.
_WEB_PHRASES = (
    "dịch vụ công",
    "cổng thông tin",
    "thông tin",
    "chính phủ",
    "bảo hiểm xã hội",
    "bảo hiểm",
    "xã hội",
    "công an",
    "y tế",
    "sức khỏe",
    "thuế",
    "điện lực",
    "nông nghiệp",
    "môi trường",
    "giáo dục",
    "tuyển sinh",
    "việc làm",
    "thời tiết",
    "thiên tai",
    "phòng chống",
    "nông thôn mới",
    "tổng đài",
    "hỏi đáp",
    "phản ánh",
    "kiến nghị",
    "tiêm chủng",
    "khuyến nông",
    "văn hóa",
    "du lịch",
    "bầu cử",
    "tỉnh",
    "huyện",
    "xã",
    "văn phòng",
    "hành chính",
    "hành chính công",
    "một cửa",
    "tiếp dân",
    "hỗ trợ",
    "liên hệ",
    "trung tâm",
    "bưu điện",
    "nước sạch",
    "kiểm lâm",
    "biên phòng",
    "quân sự",
    "nông dân",
    "phụ nữ",
    "thanh niên",
    "cựu chiến binh",
    "khí tượng",
    "thủy văn",
    "cảnh báo",
    "thiên tai",
    "hà nội",
    "yên bái",
    "lào cai",
    "lai châu",
    "điện biên",
    "sơn la",
    "hà giang",
    "tuyên quang",
    "cao bằng",
    "lạng sơn",
    "bắc kạn",
    "thái nguyên",
    "phú thọ",
    "hòa bình",
    "nghĩa lộ",
    "mù cang chải",
    "trạm tấu",
    "văn chấn",
    "lục yên",
    "văn yên",
    "trấn yên",
    "yên bình",
    "tú lệ",
)
# Parts of addresses that are read as themselves, the way people say them on the radio.
_WEB_WORDS = {
    "gov": "gờ o vê",
    "vn": "vê nờ",
    "com": "com",
    "net": "nét",
    "org": "o rờ gờ",
    "edu": "e đu",
    "info": "in phô",
    "www": "vê kép vê kép vê kép",
    "gmail": "gờ meo",
    "email": "i meo",
    "mail": "meo",
    "ubnd": "ủy ban nhân dân",
    "zalo": "da lô",
    "facebook": "phây búc",
    "youtube": "du túp",
    "http": "hát tê tê pê",
    "https": "hát tê tê pê ét",
}
# "E" in capitals: g2p-hamster reads a lone lowercase "e" as the slang for "em".
_LETTERS = {
    "a": "a", "b": "bê", "c": "xê", "d": "dê", "e": "E", "f": "ép", "g": "gờ", "h": "hát", "i": "i",
    "j": "di", "k": "ca", "l": "lờ", "m": "mờ", "n": "nờ", "o": "o", "p": "pê", "q": "quy", "r": "rờ",
    "s": "ét", "t": "tê", "u": "u", "v": "vê", "w": "vê kép", "x": "ích", "y": "i", "z": "dét",
}  # fmt: skip
_SEPARATORS = {".": "chấm", "@": "a còng", "-": "gạch ngang", "_": "gạch dưới", "/": "gạch chéo"}

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_TLD = r"(?:vn|com|net|org|gov|edu|info|io)"
_DOMAIN = rf"(?:{_LABEL}\.)+{_TLD}(?![\w-])"
_PATH = r"(?:/[A-Za-z0-9_\-]+(?:[/.][A-Za-z0-9_\-]+)*)?"
_ADDRESS = re.compile(
    rf"(?<![\w@.])(?:https?://)?(?:(?P<user>[A-Za-z0-9_.+-]+)@)?(?P<domain>{_DOMAIN}){_PATH}/?", re.IGNORECASE
)
# "ĐT.174", "QL32", "QL.4D", "ĐH 12": provincial, national, district and commune roads.
_ROADS = {"QL": "quốc lộ", "ĐT": "đường tỉnh", "TL": "tỉnh lộ", "ĐH": "đường huyện", "ĐX": "đường xã"}
_ROAD = re.compile(
    r"(?<![\w.])(?P<kind>QL|ĐT|TL|ĐH|ĐX)(?:\.\s?|\s?)(?P<n>\d{1,4})(?P<suffix>[A-Z]?)(?![\w.,]\d|[\w/:]|\s\d)"
)
# A toneless Vietnamese syllable as domains write it: onset, one to three vowels, coda.
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)


def read_codes(text: str, known_words: Iterable[str] = ()) -> str:
    """Read road numbers and web and e-mail addresses in `text` as words; `known_words` adds phrases."""
    text = _ROAD.sub(_road, text)
    vocabulary = _vocabulary(tuple(sorted(set(known_words))))
    return _ADDRESS.sub(lambda match: _address(match.group(0), vocabulary), text)


def _road(match: re.Match[str]) -> str:
    if int(match.group("n")) == 0:
        return match.group(0)
    number = numbers.cardinal(int(match.group("n")))
    return " ".join(filter(None, (_ROADS[match.group("kind")], number, match.group("suffix"))))


def _address(written: str, vocabulary: dict[str, str]) -> str:
    address = re.sub(r"^https?://", "", written, flags=re.IGNORECASE).rstrip("/")
    words: list[str] = []
    for piece in re.split(r"([.@\-_/])", address):
        if piece in _SEPARATORS:
            words.append(_SEPARATORS[piece])
        elif piece:
            words.append(_label(piece, vocabulary))
    return " ".join(words)


def _label(label: str, vocabulary: dict[str, str]) -> str:
    """One part of an address: known words with their tones, a web word, digits, or its letters."""
    lowered = label.lower()
    if lowered in _WEB_WORDS:
        return _WEB_WORDS[lowered]
    if lowered.isdigit():
        return numbers.digits(lowered)
    split = _split(lowered, vocabulary)
    if split is not None:
        return " ".join(split)
    return " ".join(
        numbers.digits(part) if part.isdigit() else " ".join(_LETTERS.get(ch, ch) for ch in part)
        for part in re.findall(r"\d+|[a-z]+", lowered)
    )


def _split(label: str, vocabulary: dict[str, str]) -> list[str] | None:
    """Known words (cost 1 each) and else toneless syllables (cost 2) that spell `label`, fewest first.

    "dichvucong" → dịch vụ công, "vanphong" → van phong; None when the label is neither.
    """
    best: list[tuple[int, list[str]] | None] = [(0, [])] + [None] * len(label)
    for end in range(1, len(label) + 1):
        for start in range(max(0, end - 24), end):
            head, written = best[start], label[start:end]
            if head is None:
                continue
            if written in vocabulary:
                piece, cost = vocabulary[written], 1
            elif _SYLLABLE.fullmatch(written):
                piece, cost = written, 2
            else:
                continue
            current = best[end]
            if current is None or head[0] + cost < current[0]:
                best[end] = (head[0] + cost, [*head[1], piece])
    found = best[len(label)]
    return None if found is None else found[1]


def fold(text: str) -> str:
    """Lowercase ASCII letters and digits only, as a domain writes words: "Yên Bái" → "yenbai"."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


@lru_cache(maxsize=8)
def _vocabulary(extra: tuple[str, ...]) -> dict[str, str]:
    vocabulary: dict[str, str] = {}
    for phrase in (*_WEB_PHRASES, *extra):
        key = fold(phrase)
        if len(key) >= 2 and not any(ch.isdigit() for ch in key):
            vocabulary.setdefault(key, phrase.lower())
    for written, reading in _WEB_WORDS.items():  # "ubndxatule" → ủy ban nhân dân xã tú lệ
        vocabulary.setdefault(written, reading)
    return vocabulary
