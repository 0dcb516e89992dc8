"""Rendering bulletins end to end with the real espeak-ng and ffmpeg, measured with ffmpeg's ebur128."""

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from controller.assets import AssetStore
from controller.config import TtsSettings
from controller.tts import (
    EspeakNg,
    Gtts,
    Lexicon,
    NoEngineAvailable,
    NormalizedText,
    RenderOptions,
    TextRejected,
    normalize_text,
    render,
    render_text,
)
from controller.tts.audio import measure
from controller.tts.commune_lexicon import commune_lexicon, replace_commune_entries
from controller.tts.lexicon import Entry

BULLETIN = (
    "UBND xã Tú Lệ thông báo: từ 5h30 đến 7h ngày 22/11/2026, trạm y tế xã tiêm phòng cho trẻ dưới 5 tuổi. "
    "Tỷ lệ tiêm chủng năm nay đạt 95,29%. Đề nghị bà con thôn Khấu Ly, Tà Chơ đưa con em đến đúng giờ. "
    "Giờ phát thanh: 17h - 19h hằng ngày."
)
ESPEAK_ONLY = TtsSettings(engines=("espeak-ng",))


@dataclass
class CountingEngine:
    """The real espeak-ng, counting the sentences it is asked to speak."""

    inner: EspeakNg = field(default_factory=EspeakNg)
    calls: int = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def voice(self) -> str:
        return self.inner.voice

    def synthesize(self, sentence: str) -> bytes:
        self.calls += 1
        return self.inner.synthesize(sentence)


def ffprobe_stream(path: Path) -> dict[str, str]:
    entries = "stream=codec_name,channels,sample_rate"
    command = ["ffprobe", "-v", "error", "-show_entries", entries, "-of", "default=nw=1", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in done.stdout.split())


def test_bulletin_is_broadcast_ready_and_cached(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    engine = CountingEngine()
    result = render_text(BULLETIN, ESPEAK_ONLY, store, engines=[engine])

    data = store.path(result.sha256).read_bytes()
    assert result.bytes == len(data)
    assert result.engine == "espeak-ng"
    assert result.voice == "vi"
    assert not result.from_cache
    assert result.normalized_text.startswith(
        "ủy ban nhân dân xã Tú Lệ thông báo: từ năm giờ ba mươi đến bảy giờ"
    )
    assert "chín mươi lăm phẩy hai mươi chín phần trăm" in result.normalized_text
    loudness = measure(data)
    assert -17.0 <= loudness.integrated_lufs <= -15.0
    assert loudness.true_peak_dbtp <= -1.5
    assert ffprobe_stream(store.path(result.sha256)) == {
        "codec_name": "mp3",
        "channels": "1",
        "sample_rate": "24000",
    }
    assert 15_000 < result.duration_ms < 60_000  # ~250 characters of speech, two chimes, pauses
    assert engine.calls == 4

    again = render_text(BULLETIN, ESPEAK_ONLY, store, engines=[engine])
    assert again.from_cache
    assert engine.calls == 4
    assert (again.sha256, again.bytes, again.duration_ms, again.engine, again.normalized_text) == (
        result.sha256, result.bytes, result.duration_ms, result.engine, result.normalized_text,
    )  # fmt: skip


def test_cached_render_is_found_before_normalizing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = AssetStore(tmp_path)
    plain = RenderOptions(intro_chime=False, outro_chime=False)
    calls: list[str] = []

    def counted(text: str, lexicon: Lexicon | None = None) -> NormalizedText:
        calls.append(text)
        return normalize_text(text, lexicon)

    monkeypatch.setattr(render, "normalize_text", counted)
    first = render_text("UBND xã họp lúc 14h.", ESPEAK_ONLY, store, options=plain)
    again = render_text("UBND xã họp lúc 14h.", ESPEAK_ONLY, store, options=plain)
    assert (first.from_cache, again.from_cache) == (False, True)
    assert again.normalized_text == first.normalized_text == "ủy ban nhân dân xã họp lúc mười bốn giờ."
    assert len(calls) == 1  # the cached call never normalized


def test_long_bulletin_is_broadcast_ready(tmp_path: Path) -> None:
    # Long bulletins are where the MP3 encoder's overshoot once pushed true peaks over the ceiling.
    store = AssetStore(tmp_path)
    result = render_text(" ".join([BULLETIN] * 7), ESPEAK_ONLY, store)
    assert result.duration_ms > 150_000
    loudness = measure(store.path(result.sha256).read_bytes())
    assert -17.0 <= loudness.integrated_lufs <= -15.0
    assert loudness.true_peak_dbtp <= -1.5


def test_options_change_the_cache_key(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    plain = RenderOptions(intro_chime=False, outro_chime=False)
    with_chimes = render_text("Xin chào bà con.", ESPEAK_ONLY, store)
    without = render_text("Xin chào bà con.", ESPEAK_ONLY, store, options=plain)
    assert with_chimes.sha256 != without.sha256
    assert with_chimes.duration_ms > without.duration_ms + 2000
    assert -17.0 <= measure(store.path(without.sha256).read_bytes()).integrated_lufs <= -15.0


def test_chain_falls_back_from_offline_gtts_to_espeak(tmp_path: Path) -> None:
    offline = Gtts(timeout_s=4.0, host="translate.google.invalid")
    result = render_text(
        "Mời bà con dự họp lúc 14h.", ESPEAK_ONLY, AssetStore(tmp_path), engines=[offline, EspeakNg()]
    )
    assert result.engine == "espeak-ng"
    assert result.normalized_text == "Mời bà con dự họp lúc mười bốn giờ."


def test_no_engine_left_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    offline = Gtts(timeout_s=4.0, host="translate.google.invalid")
    with pytest.raises(NoEngineAvailable, match="Hiện chưa có giọng đọc nào đọc được bản tin"):
        render_text("Xin chào.", ESPEAK_ONLY, AssetStore(tmp_path), engines=[offline])
    # Each engine's own reason (a host name, a program's words) is for the log, not for the person.
    assert "gtts: Google TTS" in caplog.text


def test_empty_text_is_rejected_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(TextRejected, match="Nội dung bản tin đang trống"):
        render_text("  \n ", ESPEAK_ONLY, AssetStore(tmp_path))
    assert not (tmp_path / "renders").exists()


def test_dictionary_edit_changes_the_reading_and_the_cache_key(tmp_path: Path) -> None:
    store, data_dir = AssetStore(tmp_path / "assets"), tmp_path / "data"
    plain = RenderOptions(intro_chime=False, outro_chime=False)
    first = render_text("UBND xã.", ESPEAK_ONLY, store, options=plain, lexicon=commune_lexicon(data_dir))
    assert first.normalized_text == "ủy ban nhân dân xã."
    replace_commune_entries(data_dir, [Entry("UBND", "ủy ban")])
    edited = render_text("UBND xã.", ESPEAK_ONLY, store, options=plain, lexicon=commune_lexicon(data_dir))
    assert (edited.normalized_text, edited.from_cache) == ("ủy ban xã.", False)
    assert edited.sha256 != first.sha256
    # Any edit is a new dictionary version: even a reading the text does not use is a fresh render.
    replace_commune_entries(data_dir, [Entry("UBND", "ủy ban"), Entry("TL", "Tú Lệ", "place")])
    again = render_text("UBND xã.", ESPEAK_ONLY, store, options=plain, lexicon=commune_lexicon(data_dir))
    assert not again.from_cache
    assert render_text(
        "UBND xã.", ESPEAK_ONLY, store, options=plain, lexicon=commune_lexicon(data_dir)
    ).from_cache
