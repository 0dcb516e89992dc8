"""The catalogue covers every message in the code, its Vietnamese reads as Vietnamese, formats are
Vietnamese, and the API answers in the language asked for with the same stable codes."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir

from controller.i18n import (
    Message,
    format_bytes,
    format_datetime,
    format_duration,
    format_megabytes,
    format_percent,
    translations,
)
from controller.i18n.vocabulary import ACTIONS, describe_action
from controller.services import errors as service_errors
from tests.support.english import english_in_page, english_words
from web.api.errors import HTTP_CODES, http_message

ROOT = Path(__file__).resolve().parent.parent


def _msgids() -> set[str]:
    found: set[str] = set()
    for package in ("controller", "web", "loaxa"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords={"Message": None}
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_code_has_a_vietnamese_translation_that_reads_as_vietnamese() -> None:
    vi = translations("vi")
    msgids = _msgids()
    assert len(msgids) > 150
    untranslated, english = [], []
    for msgid in sorted(msgids):
        text = vi.ugettext(msgid)
        if text == msgid and english_words(msgid):
            untranslated.append(msgid)
        elif words := english_words(text):
            english.append(f"{text!r}: {words}")
    assert not untranslated, untranslated
    assert not english, english


def test_placeholders_survive_translation() -> None:
    vi = translations("vi")
    for msgid in _msgids():
        values = {name: "x" for name in _names(msgid)}
        vi.ugettext(msgid).format(**values)  # a missing or renamed placeholder raises KeyError


def _names(msgid: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(msgid) if name}


def test_each_http_error_code_has_a_vietnamese_message_and_an_english_one() -> None:
    for status, (code, _) in HTTP_CODES.items():
        assert code.isascii() and code == code.lower()
        message = http_message(status)
        assert not english_words(message.render("vi")), (status, message.render("vi"))
        assert english_words(message.render("en")), (status, message.render("en"))


def test_every_service_error_type_keeps_an_english_code() -> None:
    kinds = [getattr(service_errors, name) for name in dir(service_errors)]
    kinds = [
        kind for kind in kinds if isinstance(kind, type) and issubclass(kind, service_errors.ServiceError)
    ]
    assert len(kinds) >= 12
    for kind in kinds:
        assert kind.code.replace("_", "").isalpha() and kind.code.isascii()


def test_a_service_error_speaks_vietnamese_and_english_when_asked() -> None:
    error = service_errors.NotFound(
        Message("Bulletin #{id} does not exist. Check the number in the bulletin list.", id=7)
    )
    assert error.message == "Không có bản tin số 7. Hãy kiểm tra lại số trong danh sách bản tin."
    assert str(error) == error.message
    assert error.message_in("en") == "Bulletin #7 does not exist. Check the number in the bulletin list."


def test_audit_actions_are_phrases() -> None:
    assert describe_action("bulletin.submit").render() == "gửi duyệt"
    assert describe_action("user.set_role").render() == "thao tác khác (user.set_role)"
    for code in ACTIONS:
        assert "." not in describe_action(code).render(), code


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (None, "—"),
        (0, "0 byte"),
        (999, "999 byte"),
        (1_500, "1,5 kB"),
        (77_334_000_000, "77,3 GB"),
        (2e12, "2 TB"),
    ],
)
def test_sizes_are_said_the_vietnamese_way(size: float | None, text: str) -> None:
    assert format_bytes(size) == text


def test_numbers_shares_durations_and_dates_are_vietnamese() -> None:
    assert format_megabytes(73_751) == "77,3 GB"  # the agent reports MiB
    assert format_percent(0.993) == "99,3%"
    assert format_percent(None) == "—"
    assert format_duration(125) == "2 phút 5 giây"
    assert format_duration(timedelta(hours=26, minutes=3)) == "1 ngày 2 giờ"
    assert format_duration(0) == "0 giây"
    with pytest.raises(ValueError, match="negative"):
        format_duration(-1)
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    assert format_datetime(datetime(2026, 12, 6, 22, 0, tzinfo=UTC), hanoi) == "7/12/2026 05:00"


def test_the_detector_finds_english_and_passes_vietnamese() -> None:
    assert english_words("The bulletin text is empty: write the words to read aloud (Vietnamese).")
    assert english_words("targets.villages must be a non-empty list of ids, got []")
    assert not english_words("Giọng đọc: giọng máy dự phòng (espeak-ng) · tệp MP3, độ lớn -16 LUFS qua API")
    assert not english_words("In báo cáo to rõ, an toàn, do trời mưa")
    page = '<p>Hoạt động <b>99,3%</b></p><code>the raw code</code><button title="Delete this">Xóa</button>'
    assert english_in_page(page) == ["'Delete this': ['this']"]
