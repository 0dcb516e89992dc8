"""The `loaxa` command line, run as a user would (real database, real files, real espeak-ng)."""

import subprocess
import sys
from pathlib import Path

import pytest

from controller.bundle import AgentBundle
from edge_agent.config import load_config
from loaxa.cli import main
from protocol.signing import generate_private_key, public_key_b64


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOAXA_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def test_db_upgrade_user_add_and_device_bundle(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["user", "add", "thu", "--role", "operator", "--password", "mật-khẩu-dài"]) == 0
    assert main(["user", "add", "thu", "--role", "operator", "--password", "mật-khẩu-khác"]) == 2
    assert "thu" in capsys.readouterr().err

    # A device needs a village: the demo seed provides them.
    from controller.config import load_settings
    from controller.db import Database
    from controller.services.places import create_commune, create_village

    settings = load_settings()
    with Database(settings.db_url).session() as session:
        from datetime import UTC, datetime

        create_commune(session, "tule", "Xã Tú Lệ", datetime.now(UTC))
        create_village(
            session, "ban-lim", datetime.now(UTC), name="Bản Lìm", commune_id="tule", languages=("vi", "thai")
        )
    bundle_path = tmp_path / "pi" / "agent.toml"
    assert (
        main(
            [
                "device",
                "add",
                "tule-c13",
                "--name",
                "Cụm loa 13",
                "--village",
                "ban-lim",
                "-o",
                str(bundle_path),
                "--qr",
                str(tmp_path / "pi" / "agent-qr.svg"),
            ]
        )
        == 0
    )
    assert bundle_path.stat().st_mode & 0o777 == 0o600
    qr = (tmp_path / "pi" / "agent-qr.svg").read_text(encoding="utf-8")
    assert qr.startswith("<?xml") and "<path" in qr
    assert (tmp_path / "pi" / "agent-qr.svg").stat().st_mode & 0o777 == 0o600
    config = load_config(bundle_path)
    assert (config.device_id, config.mqtt.username) == ("tule-c13", "tule-c13")
    assert len(config.mqtt.password) >= 32
    assert main(["device", "add", "tule-c13", "--name", "again", "--village", "ban-lim"]) == 2
    assert main(["device", "add", "tule-c14", "--name", "x", "--village", "no-such-village"]) == 2
    assert "no-such-village" in capsys.readouterr().err

    assert main(["device", "rename", "tule-c13", "Cụm loa chợ"]) == 0
    assert main(["device", "move", "tule-c13", "no-such-village"]) == 2
    assert "Không có thôn/bản “no-such-village”" in capsys.readouterr().err
    assert main(["device", "list"]) == 0
    assert "tule-c13\tban-lim\tngoại tuyến\tCụm loa chợ" in capsys.readouterr().out
    assert main(["device", "revoke", "tule-c13"]) == 0
    assert "Đã thu hồi cụm loa tule-c13" in capsys.readouterr().out
    assert main(["device", "revoke", "tule-c13"]) == 2
    assert "đã bị thu hồi" in capsys.readouterr().err
    assert main(["device", "list"]) == 0
    assert "tule-c13" not in capsys.readouterr().out


def test_bundle_round_trips_through_the_agent_config(tmp_path: Path) -> None:
    key = public_key_b64(generate_private_key().public_key())
    bundle = AgentBundle(
        device_id="tule-c01",
        mqtt_url="mqtt://10.0.0.2:1883",
        mqtt_password='p"w\\d',
        public_keys=(key,),
        gpio_pin=17,
    )
    bundle.write(tmp_path / "agent.toml")
    config = load_config(tmp_path / "agent.toml")
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.password) == ("10.0.0.2", 1883, 'p"w\\d')
    assert config.public_keys == (key,)
    assert config.amplifier.gpio_pin == 17
    assert config.player.backend == "mpg123"


def test_check_config_names_the_file_and_problem(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config"]) == 0
    assert "morning 05:00–07:30" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('timezone = "Asia/Ho_Chi_Minh"\n[[window]]\nname = "a"\nstart = "07:00"\nend = "05:00"\n')
    assert main(["check-config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.toml" in err and "a" in err


def test_tts_renders_an_mp3_offline(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOAXA_TTS_ENGINES", "gtts,espeak-ng")
    out = tmp_path / "ban-tin.mp3"
    assert main(["tts", "UBND xã thông báo lịch tiêm phòng lúc 7h30.", "-o", str(out)]) == 0
    assert out.read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")


def test_invalid_settings_are_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "loaxa.cli", "check-config"],
        env={"LOAXA_PORT": "not-a-port", "PATH": "/usr/bin:/bin", "LOAXA_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "http.port" in run.stderr and "Traceback" not in run.stderr


def test_an_installed_piper_voice_is_found_without_configuration(tmp_path: Path) -> None:
    from controller.config import DEFAULT_PIPER_VOICE, load_settings

    assert load_settings({"LOAXA_DATA_DIR": str(tmp_path)}).tts.piper_voice is None
    voice = tmp_path / "voices" / f"{DEFAULT_PIPER_VOICE}.onnx"
    voice.parent.mkdir()
    voice.write_bytes(b"onnx")
    settings = load_settings({"LOAXA_DATA_DIR": str(tmp_path)})
    assert settings.tts.piper_voice == voice
    assert settings.tts.engines == ("gtts", "piper", "espeak-ng")
