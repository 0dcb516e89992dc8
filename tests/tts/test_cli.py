"""`loaxa tts` renders a file and says how it read the text."""

from pathlib import Path

import pytest

from controller.config import load_settings
from loaxa.cli import main
from loaxa.speech import render_to_file


def test_render_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings({"LOAXA_DATA_DIR": str(tmp_path / "var"), "LOAXA_TTS_ENGINES": "espeak-ng"})
    assert render_to_file(settings, "Họp lúc 14h.", tmp_path / "out.mp3") == 0
    assert (tmp_path / "out.mp3").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "Họp lúc mười bốn giờ." in printed
    assert "giọng đọc espeak-ng" in printed
    assert main(["--data-dir", str(tmp_path / "var"), "tts", "   ", "-o", str(tmp_path / "empty.mp3")]) == 2
    assert "Nội dung bản tin đang trống" in capsys.readouterr().err
    assert not (tmp_path / "empty.mp3").exists()
