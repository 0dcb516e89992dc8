"""`loaxa area add|list|rename|move|retire|import`: the area tree from the command line.

Owns the command-line side (arguments, Vietnamese output for operators, exit codes); the rules are in
controller.services.areas and every change goes through controller.usecases.areas. Imports only the
standard library at start (`loaxa agent` must start on a Pi without the controller's packages).
"""

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loaxa.errors import CliError

if TYPE_CHECKING:
    from controller.config import Settings
    from controller.services.areas import AreaView
    from controller.usecases import AreaUseCases

Command = Callable[[argparse.Namespace], int]
Settings_ = Callable[[argparse.Namespace], "Settings"]


def _use_cases(settings: "Settings") -> "AreaUseCases":
    from datetime import UTC, datetime

    from controller.usecases import Announcer, AreaUseCases
    from loaxa.admin import database

    # A running controller re-reads areas on each request and re-plans on its own schedule.
    return AreaUseCases(database(settings), lambda: datetime.now(UTC), Announcer(lambda _id: None))


def _line(view: "AreaView") -> str:
    from controller.services.areas import LEVEL_NAMES

    parts = [f"{view.code:<16}", f"{LEVEL_NAMES[view.level]:<9}", view.name]
    if view.parent:
        parts.append(f"(thuộc {view.parent})")
    if view.languages:
        parts.append(f"[{' '.join(view.languages)}]")
    if view.retired:
        parts.append("— đã ngừng")
    return "  ".join(parts)


def _run(action: Callable[[], Any]) -> Any:
    from controller.services import ServiceError

    try:
        return action()
    except ServiceError as exc:
        raise CliError(f"{exc.message} (mã lỗi {exc.code}; không có gì bị thay đổi)") from exc


def area_command(settings_of: Settings_) -> Command:
    """The function that runs `loaxa area ACTION` with the settings `settings_of` builds."""

    def run(args: argparse.Namespace) -> int:
        settings = settings_of(args)
        if args.area_command == "list":
            return _list(settings, args)
        if args.area_command == "import":
            return _import(settings, args.file)
        areas = _use_cases(settings)
        if args.area_command == "add":
            languages = args.languages.split(",") if args.languages else None
            view = _run(lambda: areas.create(
                code=args.code, name=args.name, level=args.level, parent=args.parent, lat=args.lat,
                lon=args.lon, languages=languages, actor="cli",
            ))  # fmt: skip
            print(f"Đã tạo: {_line(view)}")
        elif args.area_command == "rename":
            print(f"Đã đổi tên: {_line(_run(lambda: areas.rename(args.code, args.name, actor='cli')))}")
        elif args.area_command == "move":
            print(f"Đã chuyển: {_line(_run(lambda: areas.move(args.code, args.parent, actor='cli')))}")
        else:
            print(f"Đã ngừng: {_line(_run(lambda: areas.retire(args.code, actor='cli')))}")
        return 0

    return run


def _list(settings: "Settings", args: argparse.Namespace) -> int:
    from controller.services import areas
    from loaxa.admin import database

    with database(settings).session() as session:
        views = _run(lambda: areas.list_areas(session, under=args.under, retired=args.all))
    for view in views:
        print(_line(view))
    if not views:
        print("Chưa có địa bàn nào: thêm bằng `loaxa area add` hoặc `loaxa area import TỆP.csv`.")
    return 0


def _import(settings: "Settings", path: Path) -> int:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"không đọc được {path} ({exc}); cần một tệp CSV mã hoá UTF-8") from exc
    views = _run(lambda: _use_cases(settings).import_csv(text, actor="cli"))
    counts: dict[str, int] = {}
    for view in views:
        counts[view.level] = counts.get(view.level, 0) + 1
    from controller.services.areas import LEVEL_NAMES

    summary = ", ".join(f"{n} {LEVEL_NAMES[level]}" for level, n in counts.items()) or "không có dòng nào"
    print(f"Đã nhập {len(views)} địa bàn từ {path}: {summary}.")
    return 0


def add_area_commands(add: Callable[[str, Command, str], argparse.ArgumentParser], run: Command) -> None:
    """Register `area` and its actions."""
    area = add("area", run, "area tree commands: province, district, commune, village")
    sub = area.add_subparsers(dest="area_command", required=True, metavar="ACTION")
    new = sub.add_parser("add", help="add an area under its parent")
    new.add_argument("code", help="official code (province 2 digits, district 3, commune 5) or village code")
    new.add_argument("--name", required=True, help="Vietnamese name, e.g. 'Xã Tú Lệ'")
    new.add_argument("--level", required=True, choices=("province", "district", "commune", "village"))
    new.add_argument("--parent", help="code of the area above (none for a province)")
    new.add_argument("--lat", type=float, help="latitude")
    new.add_argument("--lon", type=float, help="longitude")
    new.add_argument("--languages", help="a village's languages, comma separated, e.g. vi,thai")
    listing = sub.add_parser("list", help="list areas, top level first")
    listing.add_argument("--under", help="only this area and what lies under it")
    listing.add_argument("--all", action="store_true", help="retired areas too")
    rename = sub.add_parser("rename", help="give an area a new name")
    rename.add_argument("code")
    rename.add_argument("name")
    move = sub.add_parser("move", help="put an area under another parent")
    move.add_argument("code")
    move.add_argument("parent", help="code of the new area above")
    retire = sub.add_parser("retire", help="retire an area nothing depends on any more")
    retire.add_argument("code")
    load = sub.add_parser("import", help="import districts, communes and villages from CSV, all or none")
    load.add_argument("file", type=Path, help="CSV with header code,name,level,parent[,lat,lon,languages]")
