"""Limits of the wire format are met where the data enters (issue 20, item 3).

An agent refuses a whole plan that breaks its reader's limits (e.g. more than 48 windows): every device
then receives nothing. So the producers check the same limits first: the schedule loader (which the
controller's start and `loaxa check-config` use) and the settings that shape asset URLs.
"""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from controller.config import HttpSettings, Settings
from controller.planning import ScheduleError, load_schedule_file
from loaxa.cli import main
from loaxa.runtime import Controller
from protocol import MAX_PLAN_WINDOWS, PlanBody


def _windows_file(path: Path, count: int) -> Path:
    """A schedule with `count` back-to-back one-minute windows from 05:00 local time."""
    tables = "".join(
        f'[[window]]\nname = "w{n}"\nstart = "{5 + n // 60:02d}:{n % 60:02d}"\n'
        f'end = "{5 + (n + 1) // 60:02d}:{(n + 1) % 60:02d}"\n'
        for n in range(count)
    )
    path.write_text(f'timezone = "Asia/Ho_Chi_Minh"\n{tables}', encoding="utf-8")
    return path


def test_the_most_windows_an_agent_reads_pass_and_one_more_is_refused(tmp_path: Path) -> None:
    most = load_schedule_file(_windows_file(tmp_path / "most.toml", MAX_PLAN_WINDOWS)).default
    body = PlanBody(1, datetime(2026, 11, 22, tzinfo=UTC), most.timezone.key, most.windows, ())
    assert PlanBody.from_json(body.to_json()).windows == most.windows, "what loads, an agent reads"
    with pytest.raises(ScheduleError, match=f"tối đa {MAX_PLAN_WINDOWS} khung giờ"):
        load_schedule_file(_windows_file(tmp_path / "more.toml", MAX_PLAN_WINDOWS + 1))


def test_an_override_with_too_many_windows_is_refused(tmp_path: Path) -> None:
    path = _windows_file(tmp_path / "override.toml", 2)
    extra = _windows_file(tmp_path / "w.toml", MAX_PLAN_WINDOWS + 1).read_text().split("\n", 1)[1]
    path.write_text(
        path.read_text()
        + '[[override]]\nvillages = ["ban-lim"]\n'
        + extra.replace("[[window]]", "[[override.window]]")
    )
    with pytest.raises(ScheduleError, match="override #1"):
        load_schedule_file(path)


def test_check_config_refuses_a_file_agents_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOAXA_DATA_DIR", str(tmp_path / "var"))
    path = _windows_file(tmp_path / "many.toml", MAX_PLAN_WINDOWS + 1)
    assert main(["check-config", str(path)]) == 1
    assert "many.toml" in capsys.readouterr().err


def test_the_controller_does_not_start_with_a_file_agents_would_refuse(tmp_path: Path) -> None:
    path = _windows_file(tmp_path / "many.toml", MAX_PLAN_WINDOWS + 1)
    with pytest.raises(ScheduleError, match="khung giờ"):
        Controller(Settings(data_dir=tmp_path / "var", schedule=path))


def test_a_public_url_too_long_for_the_agents_is_refused(tmp_path: Path) -> None:
    assert HttpSettings(public_url="http://10.0.0.2:8080")
    with pytest.raises(ValidationError, match="2048"):
        HttpSettings(public_url="http://controller.example/" + "a" * 1900)
    run = subprocess.run(
        [sys.executable, "-m", "loaxa.cli", "check-config"],
        env={
            "PATH": "/usr/bin:/bin",
            "LOAXA_DATA_DIR": str(tmp_path),
            "LOAXA_HTTP_PUBLIC_URL": "http://controller.example/" + "a" * 1900,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2 and "http.public_url" in run.stderr


def test_an_asset_url_lifetime_that_would_overflow_planning_is_refused() -> None:
    with pytest.raises(ValidationError, match="asset_url_ttl_s"):
        HttpSettings(asset_url_ttl_s=10**12)
