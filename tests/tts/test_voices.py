"""`loaxa voices install`: the real download code against a local HTTP server, file:// URLs and a
directory laid out like a USB stick (no network)."""

import functools
import hashlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.tts.voices import CATALOGUE, VoiceFile, VoiceInstallError, install_voice
from loaxa.cli import main

MODEL = b"pretend onnx weights " * 1000
CONFIG = {"audio": {"sample_rate": 22050}, "espeak": {"voice": "vi"}, "phoneme_id_map": {"_": [0]}}
PATH = "vi/vi_VN/test/tiny/vi_VN-test-tiny.onnx"
GOOD = {"vi_VN-test-tiny": VoiceFile(PATH, len(MODEL), hashlib.sha256(MODEL).hexdigest())}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A directory laid out like the voice repository, with one small voice."""
    root = tmp_path / "source"
    (root / PATH).parent.mkdir(parents=True)
    (root / PATH).write_bytes(MODEL)
    (root / f"{PATH}.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    return root


@pytest.fixture
def http_source(source: Path) -> Iterator[str]:
    """The same directory served over HTTP on a free loopback port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(source))
    handler.log_message = lambda *_args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_installs_and_verifies_over_http(tmp_path: Path, http_source: str) -> None:
    voices = tmp_path / "voices"
    model = install_voice("vi_VN-test-tiny", voices, base_url=http_source, catalogue=GOOD)
    assert model == voices / "vi_VN-test-tiny.onnx"
    assert model.read_bytes() == MODEL
    assert json.loads(Path(f"{model}.json").read_text(encoding="utf-8")) == CONFIG
    assert sorted(p.name for p in voices.iterdir()) == ["vi_VN-test-tiny.onnx", "vi_VN-test-tiny.onnx.json"]
    # Installed and intact: a second call verifies and keeps it, even with the source gone.
    assert install_voice("vi_VN-test-tiny", voices, base_url="http://127.0.0.1:9", catalogue=GOOD) == model


def test_wrong_checksum_is_discarded(tmp_path: Path, source: Path) -> None:
    tampered = {"vi_VN-test-tiny": VoiceFile(PATH, len(MODEL), "0" * 64)}
    voices = tmp_path / "voices"
    with pytest.raises(VoiceInstallError, match=r"cần 21,000 byte, SHA-256 0000.*bị bỏ"):
        install_voice("vi_VN-test-tiny", voices, base_url=source.as_uri(), catalogue=tampered)
    assert not (voices / "vi_VN-test-tiny.onnx").exists()
    assert not [p for p in voices.iterdir() if p.name.startswith(".")]  # no partial download left


def test_wrong_size_is_discarded(tmp_path: Path, source: Path) -> None:
    short = {"vi_VN-test-tiny": VoiceFile(PATH, len(MODEL) + 1, hashlib.sha256(MODEL).hexdigest())}
    with pytest.raises(VoiceInstallError, match="tệp có 21,000 byte"):
        install_voice("vi_VN-test-tiny", tmp_path, base_url=source.as_uri(), catalogue=short)


def test_unknown_voice_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(VoiceInstallError, match="các giọng đọc có mã kiểm tra: vi_VN-vais1000-medium"):
        install_voice("vi_VN-nope-low", tmp_path)


def test_vietnamese_voice_is_pinned_by_size_and_checksum() -> None:
    voice = CATALOGUE["vi_VN-vais1000-medium"]
    assert (voice.size, voice.sha256) == (
        63_201_294,
        "ec7c89e2c85f4d1edc24b6120c18aaf1bda614f06b511567eb9c7c0de15e2dab",
    )


def test_offline_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(
        VoiceInstallError, match=r"Không tải được https://huggingface\.invalid/.*kiểm tra mạng.*--from"
    ):
        install_voice(
            "vi_VN-vais1000-medium", tmp_path, base_url="https://huggingface.invalid/x", timeout_s=3
        )
    assert time.monotonic() - started < 5.0
    assert list(tmp_path.iterdir()) == []


def test_cli_reports_unknown_voice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path), "voices", "install", "vi_VN-nope-low"]) == 2
    assert "Không có giọng đọc tên 'vi_VN-nope-low'" in capsys.readouterr().err


@pytest.fixture
def usb(tmp_path: Path) -> Path:
    """A USB stick with the voice's two files in a folder of its own, as an operator copies them."""
    stick = tmp_path / "usb"
    (stick / "giong-doc").mkdir(parents=True)
    (stick / "giong-doc" / "vi_VN-test-tiny.onnx").write_bytes(MODEL)
    (stick / "giong-doc" / "vi_VN-test-tiny.onnx.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    return stick


def test_installs_from_a_usb_stick_without_network(tmp_path: Path, usb: Path) -> None:
    voices = tmp_path / "voices"
    # An unreachable base URL: only the local files can be used.
    model = install_voice(
        "vi_VN-test-tiny", voices, source=usb, base_url="http://127.0.0.1:9", catalogue=GOOD
    )
    assert model.read_bytes() == MODEL
    assert json.loads(Path(f"{model}.json").read_text(encoding="utf-8")) == CONFIG
    again = tmp_path / "again"
    assert install_voice(
        "vi_VN-test-tiny", again, source=usb / "giong-doc" / "vi_VN-test-tiny.onnx", catalogue=GOOD
    )
    assert (again / "vi_VN-test-tiny.onnx").read_bytes() == MODEL


def test_a_corrupt_copy_on_the_stick_is_refused(tmp_path: Path, usb: Path) -> None:
    (usb / "giong-doc" / "vi_VN-test-tiny.onnx").write_bytes(MODEL[:-1] + b"X")
    voices = tmp_path / "voices"
    with pytest.raises(VoiceInstallError, match=r"không phải giọng đọc đã công bố.*không cài"):
        install_voice("vi_VN-test-tiny", voices, source=usb, catalogue=GOOD)
    assert not (voices / "vi_VN-test-tiny.onnx").exists()
    assert not [p for p in voices.iterdir() if p.suffix == ".onnx" or p.name.startswith(".")]


def test_cli_installs_from_a_stick(tmp_path: Path, usb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = usb / "giong-doc" / "vi_VN-vais1000-medium.onnx"
    (usb / "giong-doc" / "vi_VN-test-tiny.onnx").rename(model)
    (usb / "giong-doc" / "vi_VN-test-tiny.onnx.json").rename(f"{model}.json")
    # The real catalogue entry: this small file cannot match the published SHA-256.
    code = main(
        [
            "--data-dir",
            str(tmp_path / "var"),
            "voices",
            "install",
            "vi_VN-vais1000-medium",
            "--from",
            str(usb),
        ]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert (
        err.startswith("loaxa: ")
        and "ec7c89e2c85f4d1edc24b6120c18aaf1bda614f06b511567eb9c7c0de15e2dab" in err
    )
    assert "chép lại" in err
    assert not (tmp_path / "var" / "voices" / "vi_VN-vais1000-medium.onnx").exists()


@pytest.mark.parametrize("where", ["missing-dir", "empty-dir", "no-config"])
def test_cli_says_what_is_missing_on_the_stick(
    tmp_path: Path, usb: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    name = "vi_VN-vais1000-medium"
    if where == "no-config":
        (usb / "giong-doc" / "vi_VN-test-tiny.onnx").rename(usb / f"{name}.onnx")
    source = {"missing-dir": tmp_path / "khong-co", "empty-dir": tmp_path, "no-config": usb}[where]
    code = main(["--data-dir", str(tmp_path / "var"), "voices", "install", name, "--from", str(source)])
    assert code == 4
    err = capsys.readouterr().err
    expected = {
        "missing-dir": "Không tìm thấy",
        "empty-dir": f"không có tệp {name}.onnx",
        "no-config": f"thiếu tệp cấu hình {name}.onnx.json",
    }[where]
    assert expected in err, err
