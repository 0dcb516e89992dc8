"""Importing a province's districts, communes and villages from CSV, all rows or none.

The file has a header `code,name,level,parent` and optional `lat,lon,languages` columns (languages
separated by spaces, e.g. `vi thai`); rows may come in any order as long as a parent is in the database or
elsewhere in the file. Every row is checked first; any bad row refuses the whole file, each problem named
with its line number. Owns reading and checking the file; must not commit (the use case does).
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Area
from controller.services import areas
from controller.services.errors import ImportRejected, ServiceError, ValidationFailed

REQUIRED: Final = ("code", "name", "level", "parent")
OPTIONAL: Final = ("lat", "lon", "languages")


@dataclass(frozen=True)
class Row:
    """One checked row of the file, with its line number."""

    line: int
    code: str
    name: str
    level: str
    parent: str | None
    lat: float | None
    lon: float | None
    languages: tuple[str, ...]


def _float(value: str, what: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise ValidationFailed(f"{what} {value!r:.20} không phải là số (ví dụ 21.8);") from None


def _row(line: int, record: dict[str, str]) -> Row:
    level = areas.check_code_and_level(record["code"].strip(), record["level"].strip())
    languages = tuple(record.get("languages", "").split())
    areas.check_languages(languages, level)
    lat, lon = _float(record.get("lat", ""), "vĩ độ"), _float(record.get("lon", ""), "kinh độ")
    areas.check_coordinates(lat, lon)
    return Row(
        line=line, code=record["code"].strip(), name=areas.check_name(record["name"]), level=level,
        parent=record["parent"].strip() or None, lat=lat, lon=lon, languages=languages,
    )  # fmt: skip


def read_rows(text: str) -> tuple[list[Row], list[str]]:
    """The rows that read well and one problem per bad line (`dòng N: ...`)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
    if missing:
        header = ",".join(REQUIRED)
        return [], [f"dòng 1: thiếu cột {', '.join(missing)}; dòng đầu phải là {header}[,lat,lon,languages]"]
    unknown = [name for name in reader.fieldnames or [] if name not in REQUIRED + OPTIONAL]
    if unknown:
        allowed = ", ".join(REQUIRED + OPTIONAL)
        return [], [f"dòng 1: cột không biết: {', '.join(unknown)}; chỉ dùng {allowed}"]
    rows, problems = [], []
    for record in reader:
        line = reader.line_num
        if None in record or any(value is None for value in record.values()):
            problems.append(f"dòng {line}: số cột không khớp với dòng tiêu đề")
            continue
        try:
            rows.append(_row(line, record))
        except ServiceError as exc:
            problems.append(f"dòng {line}: {exc.message}")
    return rows, problems


def _tree_problems(session: Session, rows: list[Row]) -> list[str]:
    """Duplicate codes, missing parents and levels that do not fit, against the database and the file."""
    known = {code: level for code, level in session.execute(select(Area.code, Area.level))}
    retired = set(session.scalars(select(Area.code).where(Area.retired.is_(True))))
    first_line: dict[str, int] = {}
    problems = []
    for row in rows:
        if row.code in known and row.code not in first_line:
            problems.append(f"dòng {row.line}: mã {row.code} đã có trong hệ thống")
        elif row.code in first_line:
            problems.append(f"dòng {row.line}: mã {row.code} trùng với dòng {first_line[row.code]}")
        first_line.setdefault(row.code, row.line)
    levels = known | {row.code: row.level for row in rows}
    for row in rows:
        wanted = areas.PARENT_LEVEL[row.level]
        if row.parent is None:
            if row.level not in ("province", "commune"):
                above = areas.LEVEL_NAMES[str(wanted)]
                problems.append(f"dòng {row.line}: {row.code} cần mã cấp trên ({above})")
        elif row.parent not in levels:
            problems.append(f"dòng {row.line}: cấp trên {row.parent} không có trong hệ thống hay trong tệp")
        elif levels[row.parent] != wanted:
            problems.append(
                f"dòng {row.line}: {areas.LEVEL_NAMES[row.level]} {row.code} không thể nằm dưới "
                f"{areas.LEVEL_NAMES[levels[row.parent]]} {row.parent}"
            )
        elif row.parent in retired:
            problems.append(f"dòng {row.line}: cấp trên {row.parent} đã ngừng hoạt động")
    return problems


def import_areas(
    session: Session, now: datetime, text: str, *, actor: str | None = None
) -> list[areas.AreaView]:
    """Create every area of the file, parents before children; ImportRejected lists every bad row."""
    rows, problems = read_rows(text)
    problems += _tree_problems(session, rows)
    if problems:
        problems.sort(key=lambda p: int(p.split(":", 1)[0].removeprefix("dòng ")))
        raise ImportRejected(
            f"Tệp có {len(problems)} dòng lỗi, chưa nhập dòng nào. Sửa các dòng sau rồi nhập lại:\n"
            + "\n".join(problems),
            problems,
        )
    depth = {level: index for index, level in enumerate(areas.PARENT_LEVEL)}
    created = []
    for row in sorted(rows, key=lambda r: (depth[r.level], r.line)):
        area = areas.create_area(
            session, now, code=row.code, name=row.name, level=row.level, parent=row.parent, lat=row.lat,
            lon=row.lon, languages=row.languages, actor=actor,
        )  # fmt: skip
        created.append(area)
    return created
