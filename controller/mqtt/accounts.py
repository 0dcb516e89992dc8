"""MQTT accounts and their files: password hashes in mosquitto's format, the ACL, and commune relays' logins.

Owns who may log in to the broker and what each login may read and write (DESIGN §5): the controller
reads and writes every loaxa topic, a device only its own (`%u` patterns) and the area topics of its own
areas (a `user` block each), a commune relay's bridge only its devices' topics and their areas'. It
writes files and runs no process; controller.mqtt.broker runs mosquitto with them, and `loaxa broker
accounts` writes them for a broker loaxa does not run.
"""

import base64
import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from protocol import topics

# Device passwords are random 32-byte tokens, so the PBKDF2 work factor guards little; this keeps a
# province-wide reconnect storm (thousands of CONNECTs) cheap for the broker.
_PBKDF2_ITERATIONS = 1000


def hash_password(password: str, *, iterations: int = _PBKDF2_ITERATIONS) -> str:
    """Hash a password in mosquitto 2's own format (`$7$`: PBKDF2-SHA512)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def new_password() -> str:
    """A random URL-safe password for a device or the controller's broker account."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class BrokerAccount:
    """One MQTT login: the controller, a device, or a commune relay's bridge (its devices' topics)."""

    username: str
    password_hash: str
    role: Literal["controller", "device", "bridge"]
    devices: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()  # area codes whose `loaxa/v1/area/{area}/cmd` this login may read


def render_acl(accounts: Iterable[BrokerAccount]) -> str:
    """The ACL file: all loaxa topics for controllers, per-device lines for bridges, `%u` patterns."""
    lines = ["# Written by loaxa from its device registry; edits here are overwritten.", ""]
    for account in accounts:
        if account.role == "controller":
            lines += [f"user {account.username}", f"topic readwrite {topics.PREFIX}/#", ""]
        elif account.role == "bridge":
            # A relay carries exactly what its devices may: their plans and commands in, their uplink
            # out, so a compromised commune box cannot speak for another commune's devices.
            lines += [
                f"user {account.username}",
                f"topic write $SYS/broker/connection/{account.username}/state",
            ]
            for device in account.devices:
                lines += [f"topic read {topics.device_topic(device, c)}" for c in topics.DOWNLINK_CHANNELS]
                lines += [f"topic write {topics.device_topic(device, c)}" for c in topics.UPLINK_CHANNELS]
            lines += [f"topic read {topics.area_topic(area)}" for area in account.areas]
            lines.append("")
        elif account.areas:
            # A device reads the area topics of its own areas only: another village's messages are not
            # its business, and a target list is no secret from those it names.
            lines += [f"user {account.username}"]
            lines += [f"topic read {topics.area_topic(area)}" for area in account.areas]
            lines.append("")
    lines.append("# Every device: its own plan and commands in, its own uplink out.")
    lines += [f"pattern read {topics.device_topic('%u', channel)}" for channel in topics.DOWNLINK_CHANNELS]
    lines += [f"pattern write {topics.device_topic('%u', channel)}" for channel in topics.UPLINK_CHANNELS]
    return "\n".join(lines) + "\n"


def render_passwords(accounts: Iterable[BrokerAccount]) -> str:
    """The password file, one `user:hash` line per account."""
    return "".join(f"{a.username}:{a.password_hash}\n" for a in accounts)


def bridge_username(commune: str) -> str:
    """The province broker account of a commune's relay, e.g. `bridge-tule`."""
    return f"bridge-{commune}"


def bridge_account(
    directory: Path, commune: str, devices: Iterable[BrokerAccount]
) -> tuple[BrokerAccount, Path]:
    """A relay's account for the province broker, over the commune's devices (ids `{commune}-...`).

    It may read the area topics of those devices' areas, which the relay's bridge carries in.

    Its password is made once and kept in `directory/bridge-{commune}.password` (0600), so writing the
    files again after adding devices does not break the relay's login; returns the account and that file.
    """
    username = bridge_username(commune)
    secret = directory / f"{username}.password"
    if not secret.exists():
        write_private(secret, new_password() + "\n")
    password = secret.read_text(encoding="utf-8").strip()
    own = [d for d in devices if d.username.startswith(f"{commune}-")]
    areas = tuple(sorted({area for d in own for area in d.areas}))
    account = BrokerAccount(
        username, hash_password(password), "bridge", tuple(d.username for d in own), areas
    )
    return account, secret


def write_account_files(directory: Path, accounts: Iterable[BrokerAccount]) -> tuple[Path, Path]:
    """Write `passwd` and `acl` for an operator's own mosquitto; returns their paths.

    A file written before keeps the group and mode the operator gave it (e.g. `mosquitto`, 0640), so the
    broker, which reads them as its own user after a reload, can still read the new ones.
    """
    accounts = list(accounts)
    directory.mkdir(parents=True, exist_ok=True)
    passwd, acl = directory / "passwd", directory / "acl"
    for path, text in ((passwd, render_passwords(accounts)), (acl, render_acl(accounts))):
        before = path.stat() if path.exists() else None
        write_private(path, text)
        if before is not None:
            os.chown(path, -1, before.st_gid)
            path.chmod(before.st_mode & 0o777)
    return passwd, acl


def write_private(path: Path, text: str) -> None:
    """Write a file readable only by this user, atomically (the broker may read it at any moment)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
