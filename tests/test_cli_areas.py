"""`loaxa area ...` against a real SQLite database: a commune set up without a line of code."""

from pathlib import Path

import pytest

from loaxa.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOAXA_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def test_a_commune_from_the_command_line_then_a_device_in_its_village(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["area", "add", "15", "--name", "Tỉnh Yên Bái", "--level", "province"]) == 0
    csv = tmp_path / "yen-bai.csv"
    csv.write_text(
        "code,name,level,parent,lat,lon,languages\n"
        "140,Huyện Văn Chấn,district,15,,,\n"
        "04630,Xã Tú Lệ,commune,140,21.8,104.3,\n"
        "04630-lim,Bản Lìm,village,04630,,,vi thai\n",
        encoding="utf-8",
    )
    assert main(["area", "import", str(csv)]) == 0
    assert "Đã nhập 3 địa bàn" in capsys.readouterr().out
    assert main(["device", "add", "tule-c01", "--name", "Cụm 1", "--village", "04630-lim", "-o",
                 str(tmp_path / "agent.toml")]) == 0  # fmt: skip
    assert main(["area", "rename", "04630-lim", "Bản Lìm Thái"]) == 0
    assert main(["area", "list", "--under", "140"]) == 0
    listing = capsys.readouterr().out
    assert "04630-lim" in listing and "Bản Lìm Thái" in listing and "[vi thai]" in listing

    assert main(["area", "retire", "04630-lim"]) == 2
    assert "tule-c01" in capsys.readouterr().err
    assert main(["area", "move", "15", "04630"]) == 2
    assert "vòng" in capsys.readouterr().err
    assert main(["area", "add", "140", "--name", "Trùng", "--level", "district", "--parent", "15"]) == 2
    assert "đã được dùng" in capsys.readouterr().err


def test_an_import_with_bad_rows_reports_each_line_and_imports_nothing(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "code,name,level,parent\n15,Tỉnh Yên Bái,province,\n"
        "140,Huyện Văn Chấn,district,99\n1,Xã,commune,140\n",
        encoding="utf-8",
    )
    assert main(["area", "import", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "dòng 3:" in err and "dòng 4:" in err and "chưa nhập dòng nào" in err
    assert main(["area", "list"]) == 0
    assert "Chưa có địa bàn nào" in capsys.readouterr().out
    assert main(["area", "import", str(tmp_path / "missing.csv")]) == 2
