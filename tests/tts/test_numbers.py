"""Vietnamese number words."""

import pytest

from controller.tts import numbers


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "không"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (25, "hai mươi lăm"),
        (105, "một trăm lẻ năm"),
        (110, "một trăm mười"),
        (1001, "một nghìn không trăm lẻ một"),
        (1340, "một nghìn ba trăm bốn mươi"),
        (2026, "hai nghìn không trăm hai mươi sáu"),
        (100000, "một trăm nghìn"),
        (1500000, "một triệu năm trăm nghìn"),
        (2000000000, "hai tỷ"),
        (3000000005, "ba tỷ không trăm lẻ năm"),
    ],
)
def test_cardinal(n: int, words: str) -> None:
    assert numbers.cardinal(n) == words


def test_cardinal_rejects_negative() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        numbers.cardinal(-1)


@pytest.mark.parametrize(
    ("integer", "fraction", "words"),
    [
        ("95", "29", "chín mươi lăm phẩy hai mươi chín"),
        ("3", "05", "ba phẩy không năm"),
        ("2", "5", "hai phẩy năm"),
        ("0", "12345", "không phẩy một hai ba bốn năm"),
        ("12", "", "mười hai"),
    ],
)
def test_decimal(integer: str, fraction: str, words: str) -> None:
    assert numbers.decimal(integer, fraction) == words


def test_clock_and_date() -> None:
    assert numbers.clock(5, 30) == "năm giờ ba mươi"
    assert numbers.clock(17) == "mười bảy giờ"
    assert numbers.clock(7, 5) == "bảy giờ năm phút"
    assert (
        numbers.date(22, 11, 2026) == "ngày hai mươi hai tháng mười một năm hai nghìn không trăm hai mươi sáu"
    )
    assert numbers.date(None, 4, 2026, lead=False) == "tư năm hai nghìn không trăm hai mươi sáu"
