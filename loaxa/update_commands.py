"""`loaxa update start|status|cancel`: over-the-air updates of the agents, from the command line.

Owns the arguments and what the admin reads (Vietnamese). Starting reads the .deb's version and SHA-256,
which must be the file already published in the controller's apt repository (`loaxa apt publish`); the
rollout is stored and the running controller's leader sends it wave by wave (controller.rollout_job).
Imports only the standard library at start (`loaxa agent` must start on a Pi without the controller's
packages).
"""

import argparse
import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loaxa.errors import CliError

if TYPE_CHECKING:
    from controller.config import Settings
    from controller.services.rollouts import RolloutView
    from controller.usecases.rollouts import RolloutUseCases

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
Settings_ = Callable[[argparse.Namespace], "Settings"]

STATE_WORDS = {"running": "đang chạy", "done": "đã xong", "failed": "đã dừng vì lỗi", "cancelled": "đã huỷ"}
WAVE_WORDS = {"done": "xong", "running": "đang cập nhật", "failed": "lỗi", "cancelled": "đã huỷ"}


def _use_cases(settings: "Settings") -> "RolloutUseCases":
    from datetime import UTC, datetime

    from controller import apt_repo
    from controller.usecases.rollouts import RolloutUseCases
    from loaxa.admin import database

    return RolloutUseCases(database(settings), lambda: datetime.now(UTC), apt_repo.repository_dir(settings))


def _run(action: Callable[[], Any]) -> Any:
    from controller.services import ServiceError

    try:
        return action()
    except ServiceError as exc:
        raise CliError(exc.message) from exc


def deb_version(deb: Path) -> str:
    """The Version field of a .deb (dpkg-deb reads it)."""
    if not deb.is_file() or deb.suffix != ".deb":
        raise CliError(f"không tìm thấy gói .deb {deb} (tạo bằng: make deb)")
    command = ["dpkg-deb", "-f", str(deb), "Package", "Version"]
    read = subprocess.run(command, capture_output=True, text=True, check=False)
    fields = dict(line.split(": ", 1) for line in read.stdout.splitlines() if ": " in line)
    if read.returncode != 0 or fields.get("Package") != "loaxa-agent" or "Version" not in fields:
        raise CliError(f"{deb} không phải gói loaxa-agent ({read.stderr.strip() or 'thiếu trường Version'})")
    return fields["Version"]


def describe(view: "RolloutView") -> list[str]:
    """Lines about one rollout: its state and each wave's progress."""
    lines = [
        f"Lần cập nhật số {view.id}: loaxa-agent {view.version}, {STATE_WORDS.get(view.state, view.state)} "
        f"(bắt đầu {view.started_at:%Y-%m-%d %H:%M} UTC bởi {view.started_by or 'hệ thống'})"
    ]
    for wave in view.wave_progress():
        word = WAVE_WORDS.get(str(wave["status"]), "chờ")
        lines.append(
            f"  đợt {int(wave['index']) + 1}: {wave['healthy']}/{wave['total']} cụm đã tốt, "
            f"{wave['failed']} lỗi — {word}"
        )
    failed = sorted(d for d, outcome in view.outcomes.items() if outcome == "failed")
    if failed:
        lines.append(f"  cụm lỗi (đã tự quay về bản trước): {', '.join(failed)}")
    return lines


def run_start(settings: "Settings", args: argparse.Namespace) -> int:
    """`loaxa update start`: store a rollout of the published .deb."""
    from datetime import timedelta

    version = deb_version(args.deb)
    use_cases = _use_cases(settings)
    published = _run(lambda: use_cases.published_sha256(version))
    local = hashlib.sha256(args.deb.read_bytes()).hexdigest()
    if local != published:
        raise CliError(
            f"{args.deb} (SHA-256 {local[:12]}…) khác gói {version} đã đăng trong kho apt "
            f"({published[:12]}…). Hãy đăng lại đúng tệp: loaxa apt publish {args.deb}"
        )
    view = _run(
        lambda: use_cases.start(
            version, canary=args.canary, share_percent=args.share,
            deadline=timedelta(minutes=args.deadline_min), actor="cli",
        )
    )  # fmt: skip
    print("\n".join(describe(view)))
    print("Bộ điều khiển đang chạy sẽ gửi lệnh cập nhật theo từng đợt; xem tiến độ: loaxa update status")
    return 0


def run_status(settings: "Settings", args: argparse.Namespace) -> int:
    """`loaxa update status`: versions across the fleet and the latest rollouts."""
    from controller.services import rollouts
    from loaxa.admin import database

    with database(settings).session() as session:
        counts = rollouts.version_counts(session)
        recent = rollouts.recent_rollouts(session, limit=args.last)
    total = sum(counts.values())
    print(f"Phiên bản loaxa-agent trên {total} cụm loa:")
    for version, count in counts.items():
        print(f"  {version:<20} {count:>5} cụm")
    if not recent:
        hint = "loaxa update start --deb dist/loaxa-agent_X_all.deb"
        print(f"Chưa có lần cập nhật nào. Bắt đầu bằng: {hint}")
    for view in recent:
        print("\n".join(describe(view)))
    return 0


def run_cancel(settings: "Settings", args: argparse.Namespace) -> int:
    """`loaxa update cancel`: stop the running rollout or acknowledge a failed one."""
    from controller.services import rollouts
    from loaxa.admin import database

    use_cases = _use_cases(settings)
    rollout_id = args.id
    if rollout_id is None:
        with database(settings).session() as session:
            newest = next(iter(rollouts.recent_rollouts(session, limit=1)), None)
        if newest is None:
            raise CliError("chưa có lần cập nhật nào để huỷ")
        rollout_id = newest.id
    view = _run(lambda: use_cases.cancel(rollout_id, actor="cli"))
    print(f"Đã huỷ lần cập nhật số {view.id}; các cụm đã lên {view.version} giữ nguyên phiên bản đó.")
    return 0


def add_commands(add: Add, settings: Settings_) -> None:
    """Register `loaxa update start|status|cancel`; a problem the admin can fix is a CliError (exit 2)."""
    update = add("update", lambda _a: 0, "over-the-air updates of loaxa-agent in waves")
    sub = update.add_subparsers(dest="update_command", required=True, metavar="ACTION")
    start = sub.add_parser("start", help="update the fleet to a .deb published with `loaxa apt publish`")
    start.set_defaults(func=lambda args: run_start(settings(args), args))
    start.add_argument("--deb", type=Path, required=True, help="dist/loaxa-agent_X_all.deb, published")
    start.add_argument(
        "--canary", action="append", default=[], metavar="DEVICE", help="a device of the first wave (repeat)"
    )
    start.add_argument("--share", type=int, default=10, help="percent of the rest in the second wave (10)")
    start.add_argument(
        "--deadline-min", type=int, default=20, help="minutes a wave has to come up healthy (20)"
    )
    status = sub.add_parser("status", help="versions across the fleet and the latest rollouts")
    status.set_defaults(func=lambda args: run_status(settings(args), args))
    status.add_argument("--last", type=int, default=3, help="how many rollouts to show (3)")
    cancel = sub.add_parser("cancel", help="stop the running rollout (or acknowledge a failed one)")
    cancel.set_defaults(func=lambda args: run_cancel(settings(args), args))
    cancel.add_argument("id", type=int, nargs="?", help="rollout number (default: the newest)")
