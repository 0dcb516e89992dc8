"""Hardware edges: the file sink, real players on ALSA's null device, the relay on mock pins."""

import shutil
import threading
import time
import wave
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge_agent.amplifier import GpioAmplifier
from edge_agent.clock import SystemClock
from edge_agent.player import FileSinkPlayer, PlayerError, ProcessPlayer, Track
from edge_agent.tone import RATE, write_tone
from tests.edge_agent.support import Audio, plays


def test_file_sink_plays_for_the_real_duration_and_can_be_cut(tmp_path: Path, short_mp3: Audio) -> None:
    sink = FileSinkPlayer(tmp_path / "out", SystemClock())
    track = Track("i-1", short_mp3.path, short_mp3.duration_ms, 70)
    begin = time.monotonic()
    assert sink.play(track, threading.Event()) is True
    assert time.monotonic() - begin >= short_mp3.duration_ms / 1000
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    assert sink.play(track, cancel) is False
    logged = plays(tmp_path / "out")
    assert [(p["item_id"], p["completed"], p["volume"]) for p in logged] == [
        ("i-1", True, 70),
        ("i-1", False, 70),
    ]
    assert (tmp_path / "out" / logged[0]["file"]).read_bytes() == short_mp3.path.read_bytes()


@pytest.mark.parametrize("backend", ["mpg123", "aplay", "ffplay"])
def test_process_player_plays_on_alsa_null(tmp_path: Path, short_mp3: Audio, backend: str) -> None:
    if shutil.which(backend) is None:
        pytest.skip(f"{backend} is not installed")
    player = ProcessPlayer(backend, "null", "Master")  # type: ignore[arg-type]
    assert player.play(Track("i", short_mp3.path, short_mp3.duration_ms, 80), threading.Event()) is True
    tone = write_tone(tmp_path / "tone.wav", seconds=0.3)
    assert player.play(Track("t", tone, 300, 80), threading.Event()) is True


def test_process_player_reports_a_failing_player(tmp_path: Path) -> None:
    with pytest.raises(PlayerError) as info:
        ProcessPlayer("mpg123", "null", "Master").play(
            Track("b", tmp_path / "gone.mp3", 100, 80), threading.Event()
        )
    assert info.value.reason == "player_error" and "failed to open" in str(info.value)


def test_tone_is_a_valid_wav(tmp_path: Path) -> None:
    with wave.open(str(write_tone(tmp_path / "t.wav", seconds=0.5)), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (1, RATE, RATE // 2)


def test_relay_on_with_warmup_then_off(mock_pins: MockFactory) -> None:
    amp = GpioAmplifier(17, warmup_s=0.1)
    pin = mock_pins.pin(17)
    begin = time.monotonic()
    amp.on(threading.Event())
    assert time.monotonic() - begin >= 0.1 and amp.is_on and pin.state
    begin = time.monotonic()
    amp.on(threading.Event())
    assert time.monotonic() - begin < 0.1, "no second warm-up while already on"
    amp.off()
    assert not amp.is_on and not pin.state
    amp.close()
    pin.assert_states([False, True, False])
