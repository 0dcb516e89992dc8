"""Cleaning and normalizing bulletin text for reading (DESIGN §6 steps 1–2), through the real g2p-hamster."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.tts import LexiconError, TextRejected, load_lexicon, normalize_text
from controller.tts.normalize import clean_text

CASES = [
    ("1.340 người", "một nghìn ba trăm bốn mươi người."),
    ("đạt 95,29%", "đạt chín mươi lăm phẩy hai mươi chín phần trăm."),
    ("Tỷ lệ 100% hộ", "Tỷ lệ một trăm phần trăm hộ."),
    ("giá 25.000 đồng", "giá hai mươi lăm nghìn đồng."),
    ("3,05 tấn thóc", "ba phẩy không năm tấn thóc."),
    ("1.500.000 đồng", "một triệu năm trăm nghìn đồng."),
    ("Lúc 5h30 sáng", "Lúc năm giờ ba mươi sáng."),
    ("Lúc 7:30!", "Lúc bảy giờ ba mươi!"),
    ("Họp lúc 14h.", "Họp lúc mười bốn giờ."),
    ("Từ 17h - 19h hằng ngày", "Từ mười bảy giờ đến mười chín giờ hằng ngày."),
    ("9h-11h", "chín giờ đến mười một giờ."),
    ("ca 5h30–7h30", "ca năm giờ ba mươi đến bảy giờ ba mươi."),
    ("phát 17 - 19h", "phát mười bảy đến mười chín giờ."),
    ("22/11/2026", "ngày hai mươi hai tháng mười một năm hai nghìn không trăm hai mươi sáu."),
    (
        "Ngày 22/11/2026 tiêm phòng",
        "Ngày hai mươi hai tháng mười một năm hai nghìn không trăm hai mươi sáu tiêm phòng.",
    ),
    ("Hà Nội, ngày 2/9.", "Hà Nội, ngày hai tháng chín."),
    ("tháng 4/2026", "tháng tư năm hai nghìn không trăm hai mươi sáu."),
    ("Từ ngày 20 - 25/11 tới", "Từ ngày hai mươi đến ngày hai mươi lăm tháng mười một tới."),
    (
        "Nghị định số 05/2021/NĐ-CP",
        "Nghị định số năm năm hai nghìn không trăm hai mươi mốt, nghị định chính phủ.",
    ),
    ("UBND xã Tú Lệ thông báo", "ủy ban nhân dân xã Tú Lệ thông báo."),
    ("HĐND huyện họp", "hội đồng nhân dân huyện họp."),
    ("Sở TT&TT và bộ phận TTHC", "Sở thông tin và truyền thông và bộ phận thủ tục hành chính."),
    ("mạng 4G phủ sóng", "mạng bốn gờ phủ sóng."),
    (
        "Đ/c Hùng, SĐT 0912 345 678.",
        "đồng chí Hùng, số điện thoại không chín một hai, ba bốn năm, sáu bảy tám.",
    ),
    ("giá 25.000 đồng/kg", "giá hai mươi lăm nghìn đồng một ki lô gam."),
    ("Có 12 người.", "Có mười hai người."),
    ("THÔNG BÁO KHẨN", "Thông Báo Khẩn."),
    ("Thôn Khấu Ly, Tà Chơ, YB.", "Thôn Khấu Ly, Tà Chơ, Yên Bái."),
    ("ngày 32/13 không phải ngày", "ngày ba mươi hai trên mười ba không phải ngày."),
    ("Phòng dịch COVID-19", "Phòng dịch cô vít mười chín."),
]


@pytest.mark.parametrize(("text", "read"), CASES)
def test_reads_bulletin_phrases(text: str, read: str) -> None:
    assert normalize_text(text).text == read


def test_splits_sentences_and_paragraphs() -> None:
    result = normalize_text("Kính gửi bà con.  Lịch tiêm phòng: 5h30!\n\nXin cảm ơn")
    assert result.sentences == ("Kính gửi bà con.", "Lịch tiêm phòng: năm giờ ba mươi!", "Xin cảm ơn.")
    assert result.text == " ".join(result.sentences)


def test_clean_is_nfc_and_collapses_whitespace() -> None:
    decomposed = "Tu\u0301 Le\u0302\u0323\t  xã\u200b"
    assert clean_text(decomposed) == "Tú Lệ xã."


@pytest.mark.parametrize("text", ["", "   \n\t ", "... !!", "\u200b"])
def test_rejects_empty_text(text: str) -> None:
    with pytest.raises(TextRejected, match="đang trống"):
        normalize_text(text)


def test_rejects_too_long_text() -> None:
    with pytest.raises(TextRejected, match=r"dài 6000 ký tự, quá giới hạn 5000 ký tự"):
        normalize_text("a" * 6000)


def test_commune_dictionary_overrides(tmp_path: Path) -> None:
    extra = tmp_path / "tule.toml"
    extra.write_text('[places]\n"TL" = "Tú Lệ"\n[abbreviations]\n"UBND" = "ủy ban"\n', encoding="utf-8")
    lexicon = load_lexicon(extra=extra)
    assert (
        normalize_text("UBND xã TL, HĐND xã TL", lexicon).text
        == "ủy ban xã Tú Lệ, hội đồng nhân dân xã Tú Lệ."
    )


def test_dictionary_matches_whole_words_only() -> None:
    assert normalize_text("UBNDX và xUBND").text != normalize_text("ủy ban nhân dân").text


@pytest.mark.parametrize("content", ['[places]\n"TL" = ""\n', "[places\n", 'places = "x"\n'])
def test_bad_dictionary_is_reported(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError, match=r"bad\.toml"):
        load_lexicon(extra=bad)


_TEXT = st.text(alphabet="aăâđeêioôơuưyÁàạ UBND0123456789.,:;/%-h!?\n", min_size=1, max_size=80)


@settings(max_examples=150, deadline=None)
@given(_TEXT)
def test_any_text_reads_or_is_rejected_clearly(text: str) -> None:
    try:
        first = normalize_text(text)
    except TextRejected:
        return
    assert first == normalize_text(text)  # deterministic
    assert first.sentences
    assert all(sentence.strip() == sentence and sentence for sentence in first.sentences)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Giấy phép lái xe hạng C.", "Giấy phép lái xe hạng C."),
        ("Học kỳ I.", "Học kỳ một."),
        ("Loại I và loại II.", "Loại một và loại hai."),
        ("Gọi 114 hoặc nhà số 114.", "Gọi một một bốn hoặc nhà số một trăm mười bốn."),
        ("Nam/nữ từ 18 tuổi, thôn / bản.", "Nam, nữ từ mười tám tuổi, thôn, bản."),
    ],
)
def test_rules_leave_lookalikes_alone(text: str, read: str) -> None:
    assert normalize_text(text).text == read
