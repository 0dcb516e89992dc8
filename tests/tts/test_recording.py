"""Uploaded recordings go through the same loudness and encode path (DESIGN §6 step 5)."""

import hashlib
import subprocess
from pathlib import Path

import pytest

from controller.assets import AssetStore
from controller.tts import RecordingRejected, language_tag, render_recording
from controller.tts.audio import measure
from controller.tts.cache import RenderCache, cache_key
from controller.tts.render import RENDER_VERSION


def make_audio(path: Path, source: str, seconds: float, *extra: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-t", str(seconds), *extra, str(path)],
        check=True,
    )
    return path


def test_quiet_stereo_recording_is_normalized_like_speech(tmp_path: Path) -> None:
    # A quiet stereo 44.1 kHz WAV, as a phone might record: two tones, one per channel, at about -35 LUFS.
    source = "aevalsrc=0.01*sin(2*PI*440*t)*(1+sin(2*PI*3*t))|0.01*sin(2*PI*660*t):s=44100"
    wav = make_audio(tmp_path / "thai.wav", source, 4.0)
    store = AssetStore(tmp_path / "assets")
    result = render_recording(wav, "Thái", store)
    data = store.path(result.sha256).read_bytes()
    loudness = measure(data)
    assert -17.0 <= loudness.integrated_lufs <= -15.0
    assert loudness.true_peak_dbtp <= -1.5
    assert (result.engine, result.voice, result.normalized_text) == ("recording", "thai", "")
    assert 3900 <= result.duration_ms <= 4200
    assert render_recording(wav.read_bytes(), "thai", store).from_cache


def test_inter_sample_peaks_stay_under_the_true_peak_ceiling(tmp_path: Path) -> None:
    # A 6 kHz tone at 45° sampled at 24 kHz: its true peaks lie 3 dB above every sample, which a
    # sample-peak limiter does not see.
    source = "aevalsrc=0.9*sin(2*PI*6000*t+PI/4)*(0.6+0.4*sin(2*PI*2*t)):s=24000"
    wav = make_audio(tmp_path / "tone.wav", source, 6.0)
    store = AssetStore(tmp_path / "assets")
    loudness = measure(store.path(render_recording(wav, "dao", store).sha256).read_bytes())
    assert -17.0 <= loudness.integrated_lufs <= -15.0
    assert loudness.true_peak_dbtp <= -1.5


def test_unreadable_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(RecordingRejected, match="không đọc được"):
        render_recording(b"this is not audio at all", "hmn", AssetStore(tmp_path))


def test_silent_file_is_rejected(tmp_path: Path) -> None:
    wav = make_audio(tmp_path / "silence.wav", "anullsrc=r=16000:cl=mono", 2.0)
    with pytest.raises(RecordingRejected, match="không có tiếng"):
        render_recording(wav, "dao", AssetStore(tmp_path))


def test_too_long_file_is_rejected(tmp_path: Path) -> None:
    mp3 = make_audio(tmp_path / "long.mp3", "sine=f=300:r=16000", 3.0)
    with pytest.raises(RecordingRejected, match="dài hơn 2 giây"):
        render_recording(mp3, "dao", AssetStore(tmp_path), max_duration_s=2)


@pytest.mark.parametrize(
    ("given", "tag"), [("vi", "vi"), ("Thái", "thai"), ("H'Mông", "mong"), (" Dao ", "dao"), ("hmn", "mong")]
)
def test_language_names_become_village_tags(given: str, tag: str) -> None:
    assert language_tag(given) == tag


@pytest.mark.parametrize("given", ["", "tiếng Thái", "x", "vi_VN"])
def test_unusable_language_is_rejected(given: str) -> None:
    with pytest.raises(RecordingRejected, match="vi, thai, mong hoặc dao"):
        language_tag(given)


def test_too_short_file_is_rejected(tmp_path: Path) -> None:
    wav = make_audio(tmp_path / "blip.wav", "sine=f=300:r=16000", 0.2)
    with pytest.raises(RecordingRejected, match="chỉ dài 200 ms"):
        render_recording(wav, "thai", AssetStore(tmp_path))


def test_too_large_file_is_rejected_before_decoding(tmp_path: Path) -> None:
    with pytest.raises(RecordingRejected, match=r"nặng 2 MB, quá giới hạn 1 MB"):
        render_recording(b"\0" * 2_000_000, "thai", AssetStore(tmp_path), max_bytes=1_000_000)
    assert not (tmp_path / "renders").exists()


@pytest.mark.parametrize(
    "playlist",
    [
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\nfile://{secret}\n#EXT-X-ENDLIST\n",
        "ffconcat version 1.0\nfile '{secret}'\n",
    ],
    ids=["hls", "concat"],
)
def test_an_upload_that_points_at_a_local_file_is_refused(tmp_path: Path, playlist: str) -> None:
    """A playlist must not make ffmpeg read a file on the controller (issue 20, item 9)."""
    secret = make_audio(tmp_path / "secret.mp3", "sine=f=300:r=16000", 3.0)
    store = AssetStore(tmp_path / "assets")
    with pytest.raises(RecordingRejected, match="không đọc được") as refused:
        render_recording(playlist.format(secret=secret).encode(), "thai", store)
    assert str(tmp_path) not in str(refused.value) and "/tmp" not in str(refused.value)
    assert not list((tmp_path / "assets").rglob("*.mp3"))


@pytest.mark.parametrize(
    ("name", "extra"),
    [("phone.m4a", ()), ("browser.webm", ("-c:a", "libopus")), ("field.ogg", ()), ("studio.flac", ())],
)
def test_common_recording_formats_are_still_read(tmp_path: Path, name: str, extra: tuple[str, ...]) -> None:
    source = make_audio(tmp_path / name, "sine=f=300:r=16000", 2.0, *extra)
    result = render_recording(source, "thai", AssetStore(tmp_path / "assets"))
    assert 1900 <= result.duration_ms <= 2200


def test_a_cached_render_from_before_the_safe_decoder_is_not_reused(tmp_path: Path) -> None:
    """An older version may have rendered a playlist from a local file: that cache entry must not count."""
    store = AssetStore(tmp_path / "assets")
    secret = make_audio(tmp_path / "secret.mp3", "sine=f=300:r=16000", 3.0)
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\nfile://{secret}\n#EXT-X-ENDLIST\n".encode()
    render_recording(secret, "thai", store)  # what the old decoder made of the playlist
    cache = RenderCache(store)
    [leaked] = [cache.get(path.stem) for path in cache.root.glob("*.json")]
    assert leaked is not None
    old_key = cache_key(
        version=RENDER_VERSION, engine="recording", voice="thai", bitrate=64,
        data=hashlib.sha256(playlist).hexdigest(),
    )  # fmt: skip
    cache.put(old_key, leaked)
    with pytest.raises(RecordingRejected):
        render_recording(playlist, "thai", store)
