"""The synthesizers against the real espeak-ng and an offline (or silent) Google endpoint."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from controller.config import TtsSettings
from controller.tts import EngineUnavailable, EspeakNg, Gtts, build_engines
from controller.tts.engines import speak_with


def test_espeak_speaks_vietnamese_wav() -> None:
    audio = EspeakNg().synthesize("Xin chào bà con thôn Khấu Ly.")
    assert audio.startswith(b"RIFF")
    assert len(audio) > 20_000


def test_espeak_rate_and_word_gap_shape_the_audio() -> None:
    """The settings bench/bench_espeak.py measures reach espeak-ng: faster is shorter, a word gap longer."""
    sentence = "Ủy ban nhân dân xã thông báo lịch tiêm phòng cho trẻ em."
    slow, default, gapped = (
        len(EspeakNg(**settings).synthesize(sentence))  # type: ignore[arg-type]
        for settings in ({"words_per_minute": 130}, {}, {"word_gap": 3})
    )
    assert slow > default * 1.1
    assert gapped > default * 1.1
    lower = EspeakNg(pitch=20).synthesize(sentence)
    assert lower.startswith(b"RIFF") and lower != EspeakNg().synthesize(sentence)


def test_espeak_unknown_voice_or_program_is_unavailable() -> None:
    with pytest.raises(EngineUnavailable, match="voice 'xx-nope'"):
        EspeakNg(voice="xx-nope").synthesize("xin chào")
    with pytest.raises(EngineUnavailable, match="install the espeak-ng package"):
        EspeakNg(program="/nonexistent/espeak-ng").synthesize("xin chào")


def test_speak_with_keeps_sentence_order() -> None:
    spoken = speak_with(EspeakNg(), ["Một.", "Hai hai hai hai hai hai hai hai.", "Ba."])
    assert spoken.engine == "espeak-ng"
    assert [len(clip) for clip in spoken.clips][1] > max(len(spoken.clips[0]), len(spoken.clips[2]))


def test_gtts_unreachable_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match=r"unreachable|did not answer"):
        Gtts(timeout_s=4.0, host="translate.google.invalid").synthesize("xin chào")
    assert time.monotonic() - started < 5.0


def test_gtts_default_endpoint_offline_fails_fast_or_speaks() -> None:
    started = time.monotonic()
    try:
        audio = Gtts(timeout_s=4.0).synthesize("xin chào")
    except EngineUnavailable:
        assert time.monotonic() - started < 5.0
    else:
        assert audio


@pytest.fixture
def silent_proxy() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: the worst network there is."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_gtts_request_honours_its_timeout(monkeypatch: pytest.MonkeyPatch, silent_proxy: str) -> None:
    # With a proxy configured the reachability check is skipped, so this exercises gTTS's own timeout.
    monkeypatch.setenv("HTTPS_PROXY", silent_proxy)
    monkeypatch.setenv("https_proxy", silent_proxy)
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match="after 2 attempts"):
        Gtts(timeout_s=0.5, retries=1).synthesize("xin chào")
    assert time.monotonic() - started < 3.0


def test_build_engines_follows_config_order_and_skips_unknown() -> None:
    engines = build_engines(TtsSettings(engines=("espeak-ng", "piper", "gtts"), gtts_timeout_s=2.5))
    assert [engine.name for engine in engines] == ["espeak-ng", "gtts"]
    assert isinstance(engines[1], Gtts)
    assert engines[1].timeout_s == 2.5


class CountingEspeak:
    """The real espeak-ng with an unknown voice (fails every sentence), counting how often it is asked."""

    name = "espeak-ng"
    voice = "xx-nope"

    def __init__(self) -> None:
        self.calls = 0

    def synthesize(self, sentence: str) -> bytes:
        self.calls += 1
        return EspeakNg(voice=self.voice).synthesize(sentence)


def test_first_failing_sentence_cancels_the_rest() -> None:
    engine = CountingEspeak()
    with pytest.raises(EngineUnavailable, match="voice 'xx-nope'"):
        speak_with(engine, [f"Câu số {n}." for n in range(40)], workers=2)
    assert engine.calls < 10  # not 40: an engine that is down costs about one attempt per worker
