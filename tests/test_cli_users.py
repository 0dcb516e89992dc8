"""`loaxa user ...` against a real SQLite database: users with a role and an area, changed and reset."""

from pathlib import Path

import pytest

from loaxa.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOAXA_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def test_users_get_an_area_a_role_and_a_reset_code(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["area", "add", "15", "--name", "Tỉnh Yên Bái", "--level", "province"]) == 0
    assert (
        main(["area", "add", "140", "--name", "Huyện Văn Chấn", "--level", "district", "--parent", "15"]) == 0
    )
    assert main(["area", "add", "04630", "--name", "Xã Tú Lệ", "--level", "commune", "--parent", "140"]) == 0
    capsys.readouterr()
    assert (
        main(["user", "add", "thu", "--role", "operator", "--password", "mật-khẩu-dài", "--area", "04630"])
        == 0
    )
    assert "địa bàn 04630" in capsys.readouterr().out
    assert main(["user", "set-role", "thu", "approver"]) == 0
    assert main(["user", "set-area", "thu", "140"]) == 0
    assert "vai trò approver, địa bàn 140" in capsys.readouterr().out
    assert main(["user", "disable", "thu"]) == 0
    assert "đã khoá" in capsys.readouterr().out
    assert main(["user", "reset-password", "thu"]) == 0
    assert "Mã đặt lại mật khẩu của thu:" in capsys.readouterr().out

    for bad, said in (
        (["user", "set-area", "thu", "99999"], "Không có địa bàn mã '99999'"),
        (["user", "set-role", "nobody", "viewer"], "Không có người dùng 'nobody'"),
        (
            ["user", "add", "lan", "--role", "viewer", "--password", "mật-khẩu-dài", "--area", "nowhere"],
            "nowhere",
        ),
    ):
        assert main(bad) == 2
        assert said in capsys.readouterr().err
