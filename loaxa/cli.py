"""The `loaxa` command line (DESIGN §9).

Imports only the standard library at start: each subcommand imports what it needs when it runs, so
`loaxa agent` works on a Raspberry Pi that has only the `edge` extra installed.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from edge_agent import logs
from loaxa import ops

if TYPE_CHECKING:
    from controller.config import Settings

from loaxa.area_commands import add_area_commands, area_command
from loaxa.errors import CliError
from loaxa.live_command import add_live_command
from loaxa.update_commands import add_commands as add_update_commands

Command = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> "Settings":
    from pydantic import ValidationError

    from controller.config import load_settings

    try:
        return load_settings(
            schedule=getattr(args, "schedule", None),
            data_dir=getattr(args, "data_dir", None),
            http__port=getattr(args, "port", None),
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CliError(
            f"cấu hình chưa đúng (biến LOAXA_* hoặc tham số): {problems}. Hãy sửa rồi chạy lại."
        ) from exc


def cmd_controller(args: argparse.Namespace) -> int:
    """Run the controller: web, REST API, MQTT, scheduler (and the managed broker)."""
    from loaxa.runtime import Controller

    controller = Controller(_settings(args))
    controller.run_forever()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo commune with 12 simulated agents."""
    from loaxa.demo import run_demo

    run_demo(_settings(args), agents=args.agents, fresh=not args.keep)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run N simulated agents against a running controller."""
    from loaxa.demo import run_simulation

    run_simulation(_settings(args), agents=args.agents, per_process=args.per_process)
    return 0


def cmd_agent(args: argparse.Namespace) -> int:
    """Run the edge agent (what a Raspberry Pi runs)."""
    from edge_agent.cli import main as agent_main

    flags = [*(["-v"] if args.verbose else []), *(["--check"] if args.check else [])]
    return agent_main(["--config", str(args.config), *flags])


def cmd_tts(args: argparse.Namespace) -> int:
    """Render text to a loudness-normalized MP3, printing the normalized reading and the engine used."""
    from loaxa.speech import render_to_file

    return render_to_file(_settings(args), args.text, args.output)


def cmd_voices_install(args: argparse.Namespace) -> int:
    """Install a Piper voice from its official source or a local file / USB stick, verifying its SHA-256."""
    from loaxa.speech import install_voice_cli

    return install_voice_cli(_settings(args), args.name, args.dir, args.source)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Create or migrate the database to the newest schema."""
    from controller.datadir import make_data_dir
    from controller.db import upgrade

    settings = _settings(args)
    make_data_dir(settings)
    upgrade(settings.db_url)
    print(f"Cơ sở dữ liệu {settings.db_url} đã ở phiên bản mới nhất.")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    """Add a user with a role and an area."""
    from loaxa.admin import add_user

    return add_user(_settings(args), args.username, args.role, args.password, args.area)


def cmd_user_change(args: argparse.Namespace) -> int:
    """set-role, set-area, disable or enable."""
    from loaxa.admin import change_user

    active = {"disable": False, "enable": True}.get(args.user_command)
    return change_user(
        _settings(args), args.username, role=getattr(args, "role", None), area=getattr(args, "area", None),
        active=active,
    )  # fmt: skip


def cmd_user_reset(args: argparse.Namespace) -> int:
    """Print a one-time password reset code."""
    from loaxa.admin import reset_password

    return reset_password(_settings(args), args.username)


def cmd_device_add(args: argparse.Namespace) -> int:
    """Provision a device and write its agent bundle (agent.toml with credentials and keys)."""
    from loaxa.admin import add_device

    return add_device(
        _settings(args),
        device_id=args.id,
        name=args.name,
        village=args.village,
        speakers=args.speakers,
        output=args.output,
        qr=args.qr,
    )


def cmd_device_list(args: argparse.Namespace) -> int:
    """List the devices not revoked."""
    from loaxa.admin import list_devices

    return list_devices(_settings(args))


def cmd_device_rename(args: argparse.Namespace) -> int:
    """Give a device a new name."""
    from loaxa.admin import update_device

    return update_device(_settings(args), args.id, name=args.name, village=None)


def cmd_device_move(args: argparse.Namespace) -> int:
    """Move a device to another village."""
    from loaxa.admin import update_device

    return update_device(_settings(args), args.id, name=None, village=args.village)


def cmd_device_revoke(args: argparse.Namespace) -> int:
    """Revoke a device's broker login and plans."""
    from loaxa.admin import revoke_device

    return revoke_device(_settings(args), args.id)


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate the settings and the broadcast window file."""
    from loaxa.admin import check_config

    return check_config(_settings(args), args.files)


def cmd_broker_certs(args: argparse.Namespace) -> int:
    """Create the broker's CA (once) and a server certificate for its host names and IPs."""
    from datetime import UTC, datetime

    from controller import tls

    settings = _settings(args)
    files = tls.tls_files(settings.data_dir)
    hosts = [*args.host, *tls.default_hosts([settings.mqtt.url, settings.mqtt.public_url or ""])]
    cert = tls.generate(files, hosts, datetime.now(UTC))
    names = ", ".join(dict.fromkeys(hosts))
    print(f"Chứng chỉ máy chủ cho {names}, hạn đến {cert.not_valid_after_utc:%d/%m/%Y}.")
    print(f"Chứng chỉ gốc (CA, công khai) cho các Pi: {files.ca_cert} — hãy chép tệp này vào từng Pi.")
    print(f"Bật cổng TLS: LOAXA_MQTT_TLS_PORT=8883, rồi khởi động lại máy chủ xã (tệp ở {files.directory}).")
    return 0


def cmd_broker_accounts(args: argparse.Namespace) -> int:
    """Write the password file and ACL of the registry's accounts for a broker loaxa does not run."""
    from controller import services
    from controller.datadir import make_data_dir
    from controller.db import Database, upgrade
    from controller.mqtt import accounts as mqtt_accounts
    from controller.mqtt import broker
    from protocol.broker_url import parse_broker_url

    settings = _settings(args)
    out: Path = args.out
    make_data_dir(settings)
    upgrade(settings.db_url)
    with Database(settings.db_url).session() as session:
        devices = services.broker_accounts(session)
    if args.relay:
        # A commune relay: only that commune's devices, and a complete mosquitto.conf with the bridge.
        relayed = [a for a in devices if a.username.startswith(f"{args.relay}-")]
        host, port, _tls = parse_broker_url(settings.mqtt.url)
        relay = broker.ManagedBroker(
            out,
            host=host,
            port=port,
            tls=broker.tls_listener(settings.mqtt, settings.data_dir),
            bridge=broker.bridge(settings.mqtt),
        )
        relay.write_files(relayed)
        print(f"{len(relayed)} tài khoản cụm loa của {args.relay}; hãy chạy: mosquitto -c {relay.conf_path}")
        if relay.bridge is None:
            print("Chưa có cầu nối lên tỉnh: hãy đặt LOAXA_MQTT_BRIDGE_URL, _USERNAME và _PASSWORD.")
        return 0
    if not settings.mqtt.password:
        raise CliError("hãy đặt LOAXA_MQTT_PASSWORD: mật khẩu của máy chủ xã trên máy chủ tin nhắn này")
    accounts = [
        mqtt_accounts.BrokerAccount(
            settings.mqtt.username, mqtt_accounts.hash_password(settings.mqtt.password), "controller"
        ),
        *devices,
    ]
    out.mkdir(parents=True, exist_ok=True)
    for commune in args.bridge:
        account, secret = mqtt_accounts.bridge_account(out, commune, devices)
        accounts.append(account)
        print(
            f"Tài khoản chuyển tiếp {account.username} ({len(account.devices)} cụm loa), mật khẩu ở {secret}"
        )
    passwd, acl = mqtt_accounts.write_account_files(out, accounts)
    print(
        f"{len(accounts)} tài khoản: password_file {passwd}, acl_file {acl}; "
        "hãy nạp lại máy chủ tin nhắn (SIGHUP)"
    )
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """Stage the next plan-signing key, or make it the signer (docs/operations.md)."""
    from controller import keys

    directory = _settings(args).keys_dir
    try:
        ring = keys.stage_next_key(directory) if args.stage else keys.rotate_signing_key(directory)
    except FileExistsError as exc:
        raise CliError(str(exc)) from exc
    listed = ", ".join(f'"{key}"' for key in ring.public_keys_b64)
    print(
        "Đã chuẩn bị khóa ký tiếp theo."
        if args.stage
        else f"Khóa ký kế hoạch bây giờ là {ring.public_key_b64}."
    )
    print(f"agent.toml, [controller]: public_keys = [{listed}]")
    return 0


def _add_security_commands(add: Callable[[str, Command, str], argparse.ArgumentParser]) -> None:
    """`broker certs`, `broker accounts`, `keys rotate`, `backup`, `restore`, `apt publish`."""
    ops.add_commands(add, _settings)
    broker = add("broker", lambda _a: 0, "managed broker commands")
    broker_sub = broker.add_subparsers(dest="broker_command", required=True, metavar="ACTION")
    certs = broker_sub.add_parser("certs", help="make the TLS CA and server certificate in data_dir/tls")
    certs.set_defaults(func=cmd_broker_certs)
    certs.add_argument("--host", action="append", default=[], help="broker name or IP agents use (repeat)")
    accounts = broker_sub.add_parser(
        "accounts",
        help="write passwd and acl for your own broker, or a commune relay's files (docs/province.md)",
    )
    accounts.set_defaults(func=cmd_broker_accounts)
    accounts.add_argument(
        "--out", type=Path, required=True, help="directory for passwd, acl (and mosquitto.conf)"
    )
    which = accounts.add_mutually_exclusive_group()
    which.add_argument(
        "--bridge",
        action="append",
        default=[],
        metavar="COMMUNE",
        help="add the account of a commune's relay",
    )
    which.add_argument(
        "--relay", metavar="COMMUNE", help="write a commune relay broker bridged to the province"
    )
    keys = add("keys", lambda _a: 0, "signing key commands")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    rotate = keys_sub.add_parser("rotate", help="rotate the plan-signing key (see docs/operations.md)")
    rotate.set_defaults(func=cmd_keys_rotate)
    rotate.add_argument("--stage", action="store_true", help="only make and list the next key")


def _add_admin_commands(add: Callable[[str, Command, str], argparse.ArgumentParser]) -> None:
    """`db upgrade`, `user add` and `device add|list|rename|move|revoke`."""
    db = add("db", lambda _a: 0, "database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="migrate to the newest schema").set_defaults(func=cmd_db_upgrade)
    user = add("user", lambda _a: 0, "user commands")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    user_add = user_sub.add_parser("add", help="add a user")
    user_add.set_defaults(func=cmd_user_add)
    user_add.add_argument("username")
    user_add.add_argument("--role", required=True, choices=["operator", "approver", "admin", "viewer"])
    user_add.add_argument("--password", help="password (asked for when omitted)")
    user_add.add_argument("--area", help="code of the province, district or commune they work in")
    for name, help_text in (
        ("set-role", "change a user's role"),
        ("set-area", "move a user to another province, district or commune"),
        ("disable", "stop a user signing in (ends their sessions)"),
        ("enable", "let a disabled user sign in again"),
        ("reset-password", "print a one-time code the user sets a new password with"),
    ):
        command = user_sub.add_parser(name, help=help_text)
        command.set_defaults(func=cmd_user_reset if name == "reset-password" else cmd_user_change)
        command.add_argument("username")
        if name == "set-role":
            command.add_argument("role", choices=["operator", "approver", "admin", "viewer"])
        if name == "set-area":
            command.add_argument("area", help="area code, e.g. 04630")
    device = add("device", lambda _a: 0, "device commands")
    device_sub = device.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    device_add = device_sub.add_parser("add", help="provision a device and write its agent bundle")
    device_add.set_defaults(func=cmd_device_add)
    device_add.add_argument("id", help="device id, e.g. tule-c13 (also its MQTT username)")
    device_add.add_argument("--name", required=True, help="cluster name, e.g. 'Cụm loa Bản Lìm 2'")
    device_add.add_argument("--village", required=True, help="village id")
    device_add.add_argument("--speakers", type=int, default=2, help="loudspeakers on this cluster")
    device_add.add_argument("-o", "--output", type=Path, help="write agent.toml here instead of printing it")
    device_add.add_argument("--qr", type=Path, help="also write a QR code of agent.toml (.svg or .png)")
    device_sub.add_parser("list", help="list the devices not revoked").set_defaults(func=cmd_device_list)
    rename = device_sub.add_parser("rename", help="give a device a new name")
    rename.set_defaults(func=cmd_device_rename)
    rename.add_argument("id")
    rename.add_argument("name")
    move = device_sub.add_parser("move", help="move a device to another village")
    move.set_defaults(func=cmd_device_move)
    move.add_argument("id")
    move.add_argument("village", help="village id")
    revoke = device_sub.add_parser("revoke", help="revoke a device: the broker refuses it within seconds")
    revoke.set_defaults(func=cmd_device_revoke)
    revoke.add_argument("id")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="loaxa", description="Smart loudspeaker system for a commune.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--data-dir", type=Path, help="data directory (LOAXA_DATA_DIR, default ./var)")
    parser.add_argument("--schedule", type=Path, help="broadcast window file (LOAXA_SCHEDULE)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    add("controller", cmd_controller, "run the controller").add_argument("--port", type=int, help="web port")
    demo = add("demo", cmd_demo, "run the Tú Lệ demo commune with simulated agents")
    demo.add_argument("--port", type=int, help="web port (LOAXA_PORT, default 8080)")
    demo.add_argument("--agents", type=int, default=12, help="simulated agents (default 12)")
    demo.add_argument("--keep", action="store_true", help="keep the demo data of the last run")
    simulate = add("simulate", cmd_simulate, "run N simulated agents against a running controller")
    simulate.add_argument("--agents", type=int, required=True, help="how many agents")
    simulate.add_argument(
        "--per-process", type=int, default=100, help="agents per process, at most 100 (default 100)"
    )
    agent = add("agent", cmd_agent, "run the edge agent")
    agent.add_argument("--config", type=Path, required=True, help="agent.toml")
    agent.add_argument("--check", action="store_true", help="only validate the config, then exit")
    tts = add("tts", cmd_tts, "render text to speech")
    tts.add_argument("text", help="Vietnamese text")
    tts.add_argument("-o", "--output", type=Path, required=True, help="output MP3 file")
    voices = add("voices", lambda _a: 0, "Piper voice commands")
    voices_install = voices.add_subparsers(dest="voices_command", required=True, metavar="ACTION").add_parser(
        "install",
        help="install and verify a Piper voice (e.g. vi_VN-vais1000-medium), online or --from a USB stick",
    )
    voices_install.set_defaults(func=cmd_voices_install)
    voices_install.add_argument("name", help="voice name, e.g. vi_VN-vais1000-medium")
    voices_install.add_argument("--dir", type=Path, help="where to put it (default: data_dir/voices)")
    voices_install.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="the .onnx file or a directory (USB stick) holding it; no network",
    )
    _add_admin_commands(add)
    add_area_commands(add, area_command(_settings))
    _add_security_commands(add)
    add_update_commands(add, _settings)
    add_live_command(add)
    check = add("check-config", cmd_check_config, "validate settings and window files")
    check.add_argument("files", nargs="*", type=Path, help="window files (default: the configured one)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `loaxa` command."""
    args = build_parser().parse_args(argv)
    logs.configure(verbose=args.verbose)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"loaxa: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
