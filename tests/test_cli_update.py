"""`loaxa update start|status|cancel` as an admin runs them: real database, real repository, real .debs."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.config import load_settings
from controller.db import Database
from controller.services import seed_demo
from loaxa.cli import main
from loaxa.packaging import build_agent


def test_update_commands_start_only_the_published_file_then_show_and_cancel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOAXA_DATA_DIR", str(tmp_path / "var"))
    assert main(["db", "upgrade"]) == 0
    with Database(load_settings().db_url).session() as session:
        seed_demo(session, datetime.now(UTC), "mật-khẩu-demo")
    deb = build_agent("0.2.0", tmp_path / "dist")
    capsys.readouterr()

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["update", *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, _, err = run("start", "--deb", str(deb))
    assert code == 2 and "chưa có loaxa-agent 0.2.0" in err and "loaxa apt publish" in err
    code, _, err = run("start", "--deb", str(tmp_path / "nope.deb"))
    assert code == 2 and "không tìm thấy gói .deb" in err
    assert main(["apt", "publish", str(deb)]) == 0
    # A file that is not the published one is not what the Pis would download.
    (tmp_path / "other.deb").write_bytes(deb.read_bytes() + b"\0")
    code, _, err = run("start", "--deb", str(tmp_path / "other.deb"))
    assert code == 2 and "khác gói 0.2.0 đã đăng" in err
    code, _, err = run("start", "--deb", str(deb), "--canary", "tule-c99")
    assert code == 2 and "tule-c99" in err

    code, out, _ = run("start", "--deb", str(deb), "--canary", "tule-c05", "--share", "20")
    assert code == 0, out
    assert "Lần cập nhật số 1: loaxa-agent 0.2.0, đang chạy" in out
    assert "đợt 1: 0/1 cụm đã tốt" in out and "đợt 2: 0/3 cụm đã tốt" in out and "đợt 3: 0/8" in out
    code, _, err = run("start", "--deb", str(deb))
    assert code == 2 and "đang chạy" in err

    code, out, _ = run("status")
    assert code == 0 and "Phiên bản loaxa-agent trên 12 cụm loa" in out and "unknown" in out
    code, out, _ = run("cancel")
    assert code == 0 and "Đã huỷ lần cập nhật số 1" in out
    code, _, err = run("cancel", "1")
    assert code == 2 and "đã kết thúc" in err
