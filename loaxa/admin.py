"""Administrative CLI commands: users, devices (with their agent bundle) and configuration checks.

Users: add (with a role and an area), set-role, set-area, disable, enable, reset-password (a one-time code).

Owns the command-line side of these tasks (prompts, printing, exit codes); the rules are in
controller.services and controller.planning.
"""

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy.exc import SQLAlchemyError

from controller import services
from controller.bundle import AgentBundle
from controller.config import Settings
from controller.datadir import make_data_dir
from controller.db import Database, upgrade
from controller.i18n.vocabulary import describe_role
from controller.keys import load_or_create_keys
from controller.planning import ScheduleError, error_line, load_schedule_file
from controller.services import user_admin
from controller.services.views import UserView
from loaxa.errors import CliError
from loaxa.stream_check import check_stream


def database(settings: Settings) -> Database:
    """The migrated database of these settings."""
    make_data_dir(settings)
    upgrade(settings.db_url)
    return Database(settings.db_url)


# Whoever runs the command line on the server can read the database: it acts as the installation's root
# (no area), for the audit trail as "cli".
CLI_ADMIN: Final = UserView(id=0, username="cli", role="admin", commune_id=None, active=True)


def add_user(
    settings: Settings, username: str, role: str, password: str | None, area: str | None = None
) -> int:
    """Create a user working in `area`; the password is asked for when not given."""
    if password is None:
        password = getpass.getpass(f"Mật khẩu cho {username}: ")
        if password != getpass.getpass("Nhập lại mật khẩu: "):
            raise CliError("hai lần nhập mật khẩu khác nhau; chưa có gì thay đổi. Hãy chạy lại lệnh.")
    try:
        with database(settings).session() as session:
            user = services.create_user(session, username, password, role, datetime.now(UTC), area=area)
    except services.ServiceError as exc:
        raise CliError(str(exc)) from exc
    where = f", địa bàn {area}" if area else ", toàn hệ thống"
    print(f"Đã tạo tài khoản {user.username} ({describe_role(user.role)}{where}).")
    return 0


def change_user(
    settings: Settings,
    username: str,
    *,
    role: str | None = None,
    area: str | None = None,
    active: bool | None = None,
) -> int:
    """Change a user's role, area, or whether they may sign in."""
    try:
        with database(settings).session() as session:
            user_id = user_admin.user_id_of(session, username)
            view = user_admin.change_user(
                session, CLI_ADMIN, user_id, datetime.now(UTC), role=role, area=area, active=active
            )
            where = services.user_area(session, view) or "toàn hệ thống"
    except services.ServiceError as exc:
        raise CliError(exc.message) from exc
    state = "đang hoạt động" if view.active else "đã khoá (mọi phiên đăng nhập đã kết thúc)"
    print(f"{view.username}: vai trò {view.role}, địa bàn {where}, {state}")
    return 0


def reset_password(settings: Settings, username: str) -> int:
    """Issue a one-time reset code and print it with the page where the user sets a new password."""
    try:
        with database(settings).session() as session:
            user_id = user_admin.user_id_of(session, username)
            code = user_admin.issue_reset(session, CLI_ADMIN, user_id, datetime.now(UTC))
    except services.ServiceError as exc:
        raise CliError(exc.message) from exc
    print(f"Mã đặt lại mật khẩu của {code.username}: {code.code}")
    print(
        f"Dùng một lần, hết hạn lúc {code.expires_at:%H:%M %d/%m/%Y} (UTC). Người dùng mở trang "
        f"/dat-lai-mat-khau, nhập tên đăng nhập, mã này và mật khẩu mới."
    )
    return 0


def add_device(
    settings: Settings,
    *,
    device_id: str,
    name: str,
    village: str,
    speakers: int,
    output: Path | None,
    qr: Path | None = None,
) -> int:
    """Provision a device and print or write its agent.toml (the password is shown only this once).

    With `qr`, also write a QR code of the bundle (SVG or PNG by the file's suffix) for the printed sheet.
    """
    keys = load_or_create_keys(settings.keys_dir)
    try:
        with database(settings).session() as session:
            provisioned = services.provision_device(
                session, device_id, datetime.now(UTC), name=name, village_id=village, speakers=speakers
            )
    except services.ServiceError as exc:
        raise CliError(str(exc)) from exc
    bundle = AgentBundle(
        device_id=provisioned.device.id,
        mqtt_url=settings.mqtt.public_url or settings.mqtt.url,
        mqtt_password=provisioned.mqtt_password,
        public_keys=keys.public_keys_b64,
    )
    if qr is not None:
        import segno  # only this option needs it

        qr.parent.mkdir(parents=True, exist_ok=True)
        qr.touch(mode=0o600, exist_ok=True)  # it holds the password, like agent.toml: private from the start
        qr.chmod(0o600)
        segno.make(bundle.compact(), error="m").save(str(qr), scale=4, border=4)
        print(f"Mã QR của tệp cấu hình đã ghi vào {qr} (chứa mật khẩu: giữ kín).", file=sys.stderr)
    if output is None:
        sys.stdout.write(bundle.toml())
    else:
        bundle.write(output)
        print(f"Đã thêm cụm loa {device_id}; gói cấu hình cho Pi ở {output} (chỉ chủ tệp đọc được).")
    print(
        "Bộ điều khiển đang chạy nhận thiết bị mới trong vài giây, không cần khởi động lại.", file=sys.stderr
    )
    return 0


def list_devices(settings: Settings) -> int:
    """Print the devices not revoked: id, village, online state, name (one a line)."""
    with database(settings).session() as session:
        views = services.list_devices(session, datetime.now(UTC))
    for view in views:
        state = "trực tuyến" if view.online else "ngoại tuyến"
        print(f"{view.id}\t{view.village_id}\t{state}\t{view.name}")
    print(f"{len(views)} cụm loa đang hoạt động.", file=sys.stderr)
    return 0


def update_device(settings: Settings, device_id: str, *, name: str | None, village: str | None) -> int:
    """Rename a device or move it to another village."""
    try:
        with database(settings).session() as session:
            now = datetime.now(UTC)
            view = services.update_device(session, device_id, now, name=name, village_id=village)
    except services.ServiceError as exc:
        raise CliError(str(exc)) from exc
    print(f"Đã lưu cụm loa {view.id}: “{view.name}”, thôn/bản {view.village_id}.")
    return 0


def revoke_device(settings: Settings, device_id: str) -> int:
    """Revoke a device: the managed broker of a running controller refuses it within seconds."""
    try:
        with database(settings).session() as session:
            services.revoke_device(session, device_id, datetime.now(UTC))
    except services.ServiceError as exc:
        raise CliError(str(exc)) from exc
    print(
        f"Đã thu hồi cụm loa {device_id}: máy chủ MQTT của bộ điều khiển từ chối thiết bị này "
        "trong vài giây. "
        "Muốn dùng lại phần cứng, hãy cấp thiết bị mới với mã khác (loaxa device add)."
    )
    return 0


def check_config(settings: Settings, files: list[Path]) -> int:
    """Validate window files (the configured one by default) and a province's Icecast's logins.

    Prints each problem as file:line: problem, or what the Icecast refused.
    """
    places = _known_places(settings)
    failures = 0
    for path in files or [settings.schedule]:
        try:
            schedule_file = load_schedule_file(path)
            if places is not None:
                schedule_file.check_places(*places)
        except ScheduleError as exc:
            try:
                line = error_line(path.read_text(encoding="utf-8"), exc)
            except (OSError, UnicodeDecodeError):
                line = None
            where = f"{path}:{line}" if line else str(path)
            print(f"✗ {where}: {str(exc).removeprefix(f'{path}: ')}", file=sys.stderr)
            failures += 1
            continue
        schedule = schedule_file.default
        windows = ", ".join(f"{w.name} {w.start[:5]}–{w.end[:5]}" for w in schedule.windows)
        extra = f"; {len(schedule_file.overrides)} lịch riêng" if schedule_file.overrides else ""
        blackout = f"; {len(schedule.blackout)} ngày nghỉ phát" if schedule.blackout else ""
        print(f"✓ {path}: {schedule.timezone.key}; {windows}{extra}{blackout}")
    failures += check_stream(settings)
    return 1 if failures else 0


def _known_places(settings: Settings) -> tuple[set[str], set[str]] | None:
    """Village and cluster ids in the database, or None when there are none to check against."""
    if settings.database_url is None and not (settings.data_dir / "loaxa.db").exists():
        return None  # no database yet: nothing to check against, and check-config creates none
    try:
        with Database(settings.db_url).session() as session:
            villages = {v.id for v in services.list_villages(session)}
            clusters = {d.id for d in services.list_devices(session, datetime.now(UTC))}
    except SQLAlchemyError as exc:
        print(
            f"loaxa: chưa kiểm tra thôn bản và cụm loa vì không kết nối được cơ sở dữ liệu ({exc})",
            file=sys.stderr,
        )
        return None
    return (villages, clusters) if villages else None
