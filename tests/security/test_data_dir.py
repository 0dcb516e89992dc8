"""The controller's data directory and database are private to the service user (issue 20, item 17)."""

import stat
from pathlib import Path

import pytest

from controller.config import Settings
from controller.datadir import make_data_dir
from loaxa.cli import main


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_db_upgrade_leaves_nothing_readable_by_other_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "var" / "demo"
    monkeypatch.setenv("LOAXA_DATA_DIR", str(data_dir))
    assert main(["db", "upgrade"]) == 0
    assert _mode(data_dir) == 0o700
    databases = list(data_dir.glob("loaxa.db*"))
    assert databases and all(_mode(f) == 0o600 for f in databases), [(f, oct(_mode(f))) for f in databases]


def test_an_existing_open_data_dir_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    (data_dir / "loaxa.db").write_bytes(b"")
    (data_dir / "loaxa.db").chmod(0o644)
    make_data_dir(Settings(data_dir=data_dir))
    assert (_mode(data_dir), _mode(data_dir / "loaxa.db")) == (0o700, 0o600)
