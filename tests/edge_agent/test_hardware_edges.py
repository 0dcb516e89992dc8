"""Hardware edges: the file sink, real players on ALSA's null device, the relay on mock pins."""

import shutil
import threading
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge_agent.amplifier import GpioAmplifier, warm_before
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


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("default", "-q sset PCM 55%"),
        ("plughw:Device,0", "-q -c Device sset PCM 55%"),
        ("hw:CARD=1", "-q -c 1 sset PCM 55%"),
    ],
)
def test_volume_goes_to_the_alsa_mixer_of_the_device_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, device: str, expected: str
) -> None:
    # This machine has no sound card, so amixer itself is the hardware edge: a stand-in records its arguments.
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "amixer"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    player = ProcessPlayer("mpg123", device, "PCM")
    assert player.set_volume(55) is True
    assert calls.read_text().splitlines() == [expected]


def test_volume_refused_by_the_mixer_is_reported_not_raised() -> None:
    if shutil.which("amixer") is None:
        pytest.skip("alsa-utils is not installed")
    assert ProcessPlayer("mpg123", "hw:NoSuchCard", "PCM").set_volume(50) is False


def test_warm_before_switches_on_ahead_and_off_when_nothing_is_due(mock_pins: MockFactory) -> None:
    amp = GpioAmplifier(17, warmup_s=2.0)
    start = datetime(2026, 11, 22, 5, tzinfo=UTC)
    assert warm_before(amp, start, start - timedelta(seconds=5), 2.0) == start - timedelta(seconds=2)
    assert not amp.is_on
    assert warm_before(amp, start, start - timedelta(seconds=2), 2.0) is None and amp.is_on
    assert warm_before(amp, None, start, 2.0) is None and not amp.is_on, "nothing due: off again"
    amp.close()
