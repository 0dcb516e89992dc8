"""Which voice read a bulletin, and the warning on the devices page when the commune is on espeak-ng."""

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from controller import services
from controller.config import Settings, TtsSettings
from tests.web.conftest import NOW, Runtime
from tests.web.ui_support import post, sign_in
from web import WebContext, create_app

WARNING = "data-speech-warning"


def _speech(runtime: Runtime, engine: str, minutes_ago: int, language: str = "vi") -> str:
    """A stored asset read by `engine`, registered as the runtime's render step does."""
    data = f"{engine} {minutes_ago} {language}".encode()
    sha256 = runtime.store.put(data)
    with runtime.db.session() as db:
        services.register_asset(
            db, NOW - timedelta(minutes=minutes_ago), sha256=sha256, size=len(data), duration_ms=1000,
            engine=engine, voice=engine, language=language,
        )  # fmt: skip
    return sha256


def test_no_warning_while_the_better_voice_reads(client: FlaskClient, runtime: Runtime) -> None:
    _speech(runtime, "espeak-ng", 60)
    _speech(runtime, "gtts", 5)
    sign_in(client, "admin")
    assert WARNING not in client.get("/devices").get_data(as_text=True)


def test_warns_when_the_newest_bulletin_was_read_offline(client: FlaskClient, runtime: Runtime) -> None:
    _speech(runtime, "gtts", 60)
    _speech(runtime, "espeak-ng", 5)
    _speech(runtime, "recording", 1, language="thai")  # a recording says nothing about the voice
    sign_in(client, "admin")
    page = client.get("/devices").get_data(as_text=True)
    assert WARNING in page
    assert "Bản tin gần nhất được đọc bằng giọng dự phòng espeak-ng" in page
    assert "loaxa voices install vi_VN-vais1000-medium --from /media/usb" in page


@pytest.fixture
def espeak_only(context: WebContext, tmp_path: Path) -> FlaskClient:
    """The app of a commune whose chain has only espeak-ng (no Google, no Piper voice installed)."""
    settings = Settings(data_dir=tmp_path, tts=TtsSettings(engines=("piper", "espeak-ng")))
    app = create_app(dataclasses.replace(context, settings=settings))
    app.testing = True
    return app.test_client()


def test_warns_when_the_commune_has_no_better_voice(espeak_only: FlaskClient) -> None:
    sign_in(espeak_only, "viewer")
    page = espeak_only.get("/devices").get_data(as_text=True)
    assert "Xã chỉ có giọng đọc dự phòng espeak-ng" in page


def test_the_bulletin_page_says_which_voice_read_each_version(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "operator")
    answer = post(
        client,
        "/compose",
        {"title": "Họp thôn", "text": "Họp thôn lúc 19h.", "priority": "normal", "target_mode": "all"},
    )
    bulletin_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    speech, recording = _speech(runtime, "espeak-ng", 1), _speech(runtime, "recording", 1, language="thai")
    with runtime.db.session() as db:
        services.attach_audio(db, bulletin_id, NOW, language="vi", kind="tts", asset_sha256=speech)
        services.attach_audio(db, bulletin_id, NOW, language="thai", kind="recorded", asset_sha256=recording)
    page = client.get(f"/bulletins/{bulletin_id}").get_data(as_text=True)
    assert 'data-engine="espeak-ng">đọc bằng giọng dự phòng espeak-ng' in page
    assert 'data-engine="recording">đọc bằng bản ghi âm' in page
