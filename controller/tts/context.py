"""The words around a number that decide how it is read: counted things, places, fractions, calls.

Owns those word lists and the small look-behind/look-ahead helpers on a regex match that `rules` and
`rules_time` share ("10/12 thôn" counts villages, "1/2 số hộ" is a fraction, "gọi ngay 114" is a call).
Pure functions on strings: it reads nothing aloud itself.
"""

import re

# Things a bulletin counts: "10/12 thôn" is ten of twelve villages, "115 hộ" a hundred and fifteen homes.
# No words of time: "hạn 10/12 năm nay" is a date.
COUNT_NOUNS = (
    "thôn|bản|xóm|tổ|khu|làng|xã|phường|hộ|hộ dân|người|nhân khẩu|tiêu chí|chỉ tiêu|trường|lớp|học sinh|"
    "cháu|trẻ|hồ sơ|đơn vị|công trình|cơ sở|điểm|cụm|trạm|loa|nhà|gia đình|thửa|mẫu|ca|trường hợp|lượt|"
    "con|cây|chiếc|cái|km|ha|tấn|đồng|triệu|nghìn|tỷ|lần|liều|suất|xe|"
    "hội viên|đảng viên|thành viên|cán bộ|lao động|doanh nghiệp|hợp tác xã|dự án|nội dung|mô hình|"
    "bệnh nhân|học viên|thí sinh|giáo viên|công nhân|em|cụ|phòng|căn|ngôi|bao|thùng|lít|kg|mét|m"
)
_COUNTED = re.compile(rf"\s*(?:{COUNT_NOUNS})(?!\w)(?:\s+(?P<next>\w))?")
# Words before "a/b" (or after it) that make it a part of a whole: "khoảng 1/2 số hộ", "chiếm 2/3".
_FRACTION_BEFORE = re.compile(
    r"(?:khoảng|hơn|gần|chiếm|còn|chỉ|non|quá|bằng|ít nhất|tối đa|giảm|tăng|mất|thiệt hại)\s*$",
    re.IGNORECASE,
)
_FRACTION_AFTER = re.compile(r"\s*(?:số|diện tích|dân số|tổng|kinh phí|sản lượng|lượng|giá trị)(?!\w)")
# What precedes a number that is dialled, not counted: "gọi ngay 114", "đường dây nóng: 1022".
_CALLED = re.compile(
    r"(?:gọi|gọi ngay|gọi điện|gọi đến|gọi tới|tổng đài|đường dây nóng|hotline|số điện thoại|điện thoại|"
    r"liên hệ|số khẩn cấp)(?:\s+[^\W\d]+){0,3}?\s*:?\s*(?:số\s*)?$",
    re.IGNORECASE,
)
# Where 111..115 are house, room or plot numbers or kilometre posts, not the emergency lines.
_ADDRESSED = re.compile(r"(?:nhà số|số nhà|phòng|km|lô|tổ|ki ốt|kiốt|căn|thửa)\s*$", re.IGNORECASE)


# Words after which "a/b" is a date whatever follows: "sáng 10/12 thôn tổ chức họp".
_DATED = re.compile(r"(?<!\w)(?:sáng|chiều|tối|trưa|đêm|hôm|từ|đến|tới|trước|sau|hạn|hết|vào|lúc)\s*$", re.I)


# "hoạt động 24/7": hours a day over days a week, not the 24th of July.
_ROUND_THE_CLOCK = re.compile(r"(?:hoạt động|trực|phục vụ|mở cửa|làm việc|liên tục|tiếp nhận)\s*$", re.I)


def before(match: re.Match[str], span: int = 40) -> str:
    """The text just before the match (at most `span` characters)."""
    return match.string[max(0, match.start() - span) : match.start()]


def after(match: re.Match[str]) -> str:
    """The text after the match."""
    return match.string[match.end() :]


def counted_after(match: re.Match[str]) -> bool:
    """A counted noun follows, not as the start of a name ("10/12 thôn", not "25/11 thôn Khấu Ly")."""
    counted = _COUNTED.match(after(match))
    return counted is not None and not (counted.group("next") or "").isupper()


def fraction_context(match: re.Match[str]) -> bool:
    """Whether "a/b" is a part of a whole: a word like "khoảng" before it, or "số hộ" after it."""
    return bool(_FRACTION_BEFORE.search(before(match)) or _FRACTION_AFTER.match(after(match)))


def dialled(match: re.Match[str]) -> bool:
    """The number is introduced as one to call ("gọi ngay", "tổng đài", "đường dây nóng:")."""
    return bool(_CALLED.search(before(match)))


def addressed(match: re.Match[str]) -> bool:
    """The number is a house, room, plot or kilometre number ("nhà số 114", "km 112")."""
    return bool(_ADDRESSED.search(before(match)))


def dated(match: re.Match[str]) -> bool:
    """A word of time comes just before ("sáng 10/12", "hạn 1/2"): "a/b" is a date."""
    return bool(_DATED.search(before(match)))


def round_the_clock(match: re.Match[str]) -> bool:
    """Whether "24/7" follows "hoạt động", "trực", "phục vụ" …: a service's hours, not a date."""
    return match.group(0).replace(" ", "") == "24/7" and bool(_ROUND_THE_CLOCK.search(before(match)))
