"""The operators' commands `loaxa backup`, `loaxa restore` and `loaxa apt publish`: arguments and output.

Owns parsing and what the operator reads (Vietnamese); the work is in controller.backup and
controller.apt_repo, imported only when a command runs, so that `loaxa agent` on a Pi with only the
`edge` extra never imports SQLAlchemy or pydantic.
"""

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from loaxa.errors import CliError

if TYPE_CHECKING:
    from controller.config import Settings

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
PLAN_VERSION_GAP = 100_000  # controller.backup's default, repeated to keep this module light


def add_commands(add: Add, settings: Callable[[argparse.Namespace], "Settings"]) -> None:
    """Register the commands; a problem the operator can fix is a CliError (exit 2)."""

    def run_backup(args: argparse.Namespace) -> int:
        from controller import backup

        try:
            written = backup.backup(settings(args), args.archive, datetime.now(UTC))
        except backup.BackupError as exc:
            raise CliError(str(exc)) from exc
        print(f"đã sao lưu vào {written} ({written.stat().st_size // 1024} KB); hãy cất một bản ở máy khác")
        return 0

    def run_restore(args: argparse.Namespace) -> int:
        from controller import backup

        try:
            manifest = backup.restore(settings(args), args.archive, plan_version_gap=args.plan_version_gap)
        except backup.BackupError as exc:
            raise CliError(str(exc)) from exc
        when = manifest.created_at
        print(f"đã khôi phục bản sao lưu lúc {when}; hãy khởi động bộ điều khiển (loaxa controller)")
        return 0

    def run_publish(args: argparse.Namespace) -> int:
        from controller import apt_repo

        loaded = settings(args)
        missing = [str(deb) for deb in args.debs if not deb.is_file() or deb.suffix != ".deb"]
        if missing:
            raise CliError(f"không tìm thấy gói .deb: {', '.join(missing)} (tạo bằng: make deb)")
        try:
            keyring = apt_repo.publish(
                args.debs, apt_repo.repository_dir(loaded), loaded.keys_dir, loaded.commune
            )
        except apt_repo.RepositoryError as exc:
            raise CliError(str(exc)) from exc
        base = f"{loaded.asset_base_url}/apt"
        print(
            f"đã đăng {len(args.debs)} gói. Trên mỗi Pi: tải {base}/{keyring.name} về "
            "/usr/share/keyrings/loaxa.gpg, ghi dòng\n"
            f"  deb [signed-by=/usr/share/keyrings/loaxa.gpg] {base} {apt_repo.SUITE} {apt_repo.COMPONENT}\n"
            "vào /etc/apt/sources.list.d/loaxa.list, rồi chạy: apt update && apt install loaxa-agent"
        )
        return 0

    made = add("backup", run_backup, "write a backup archive: database, assets, keys, broker files")
    made.add_argument("archive", type=Path, help="the .tar.gz to write (outside the data directory)")
    back = add("restore", run_restore, "restore a backup archive into an empty data directory")
    back.add_argument("archive", type=Path, help="a .tar.gz written by `loaxa backup`")
    back.add_argument(
        "--plan-version-gap",
        type=int,
        default=PLAN_VERSION_GAP,
        help="raise stored plan versions by this much, above what agents accepted since the backup",
    )
    apt = add("apt", lambda _a: 0, "the controller's signed apt repository of agent packages")
    sub = apt.add_subparsers(dest="apt_command", required=True, metavar="ACTION")
    publish = sub.add_parser("publish", help="add .deb packages (from `make deb`) and sign the repository")
    publish.set_defaults(func=run_publish)
    publish.add_argument("debs", nargs="+", type=Path, help="loaxa-agent_*.deb files")
