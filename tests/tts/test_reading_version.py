"""The normalizer's version in the render cache key: it follows the reading code, and only that."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.tts import reading_version

PACKAGE = Path(reading_version.__file__).parent


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of controller/tts the version is computed from, so the test can edit it."""
    copy = tmp_path / "tts"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(reading_version, "_PACKAGE_DIR", copy)
    reading_version.normalizer_version.cache_clear()
    yield copy
    reading_version.normalizer_version.cache_clear()


def version() -> str:
    reading_version.normalizer_version.cache_clear()
    return reading_version.normalizer_version()


def test_the_reading_modules_are_found_from_normalize(package: Path) -> None:
    names = {path.stem for path in reading_version.reading_modules()}
    assert {"normalize", "rules", "rules_time", "numbers", "lexicon"} <= names
    assert not names & {"audio", "render", "engines", "cache", "recording"}


def test_an_edit_to_a_rule_changes_the_version(package: Path) -> None:
    before = version()
    rules = package / "rules_time.py"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# a new rule\n", encoding="utf-8")
    assert version() != before


def test_a_new_rules_module_counts_once_imported(package: Path) -> None:
    before = version()
    (package / "rules_units.py").write_text("UNITS = {'ha': 'héc ta'}\n", encoding="utf-8")
    assert version() == before  # not imported by the normalizer: not part of the reading
    rules = package / "rules.py"
    rules.write_text("from controller.tts.rules_units import UNITS\n" + rules.read_text(encoding="utf-8"))
    assert "rules_units" in {path.stem for path in reading_version.reading_modules()}
    changed = version()
    (package / "rules_units.py").write_text("UNITS = {'ha': 'hecta'}\n", encoding="utf-8")
    assert version() not in (before, changed)


def test_audio_changes_leave_the_version_alone(package: Path) -> None:
    before = version()
    audio = package / "audio.py"
    audio.write_text(audio.read_text(encoding="utf-8") + "\n# louder\n", encoding="utf-8")
    assert version() == before


def test_packaged_dictionary_file_counts(package: Path) -> None:
    before = version()
    toml = package / "abbreviations.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n# note\n", encoding="utf-8")
    assert version() != before
