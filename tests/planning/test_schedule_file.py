"""Window files with blackout dates and per-village/cluster overrides, and `loaxa check-config`'s lines."""

from datetime import date
from pathlib import Path

import pytest

from controller.config import load_settings
from controller.planning import ScheduleError, error_line, load_schedule_file, occurrences
from loaxa.admin import check_config
from tests.planning.builders import local

FILE = """\
timezone = "Asia/Ho_Chi_Minh"
blackout = ["2026-11-23"]

[[window]]
name = "morning"
start = "05:00"
end = "07:30"

[[override]]
villages = ["phinh-ho"]
blackout = ["2026-11-24"]
[[override.window]]
name = "noon"
start = "11:00"
end = "11:30"

[[override]]
clusters = ["tule-c11"]
[[override.window]]
name = "evening"
start = "18:00"
end = "19:00"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "windows.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_overrides_pick_a_devices_windows_and_blackout_days_have_none(tmp_path: Path) -> None:
    schedules = load_schedule_file(_write(tmp_path, FILE))
    assert [w.name for w in schedules.for_device("tule-c01", "ban-lim").windows] == ["morning"]
    assert [w.name for w in schedules.for_device("tule-c10", "phinh-ho").windows] == ["noon"]
    assert [w.name for w in schedules.for_device("tule-c11", "phinh-ho").windows] == [
        "evening"
    ]  # cluster wins
    days = [o.local_date for o in occurrences(schedules.default, local(22, 0), local(26, 0))]
    assert days == [date(2026, 11, 22), date(2026, 11, 24), date(2026, 11, 25)]
    village = schedules.for_device("tule-c10", "phinh-ho")
    assert [o.local_date.day for o in occurrences(village, local(22, 0), local(26, 0))] == [22, 25]


@pytest.mark.parametrize(
    ("broken", "replaced", "where"),
    [
        ('end = "07:30"', 'end = "04:30"', (7, "window 'morning': end 04:30:00 is not after start 05:00:00")),
        ('start = "11:00"', 'start = "11:61"', (14, "start '11:61' is not a time of day")),
        ('blackout = ["2026-11-24"]', 'blackout = ["24/11"]', (11, "blackout date '24/11' is not a date")),
        ('villages = ["phinh-ho"]', 'village = ["phinh-ho"]', (10, "unknown key 'village'")),
        ('name = "noon"', 'name = "noon"\nname = "x"', (14, "not valid TOML")),
    ],
)
def test_check_config_names_file_line_and_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str, replaced: str, where: tuple[int, str]
) -> None:
    line, message = where
    path = _write(tmp_path, FILE.replace(broken, replaced))
    settings = load_settings({}, data_dir=tmp_path / "data")
    assert check_config(settings, [path]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}: " in err and message in err, err


def test_an_override_naming_an_unknown_village_is_pointed_at(tmp_path: Path) -> None:
    path = _write(tmp_path, FILE)
    with pytest.raises(ScheduleError, match="unknown village 'phinh-ho'") as caught:
        load_schedule_file(path).check_places({"ban-lim"}, {"tule-c11"})
    assert error_line(FILE, caught.value) == 10
