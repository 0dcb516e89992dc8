"""The managed mosquitto: config, password file and ACL written from the device registry (DESIGN §3).

Owns the broker child process and its configuration; knows nothing of the database (callers pass
accounts, which controller.mqtt.accounts turns into the password file and ACL).
Devices may read only their own plan and commands and write only their own status, heartbeats and
events (`%u` patterns); there is no anonymous access. An optional second listener speaks TLS with the
certificates of controller.tls (this module only points mosquitto at them). The same files serve an
operator's own mosquitto (`loaxa broker accounts`), and a commune relay broker adds a bridge to the
province broker: device uplink out, plans and commands in (docs/province.md).
"""

import getpass
import hashlib
import logging
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from controller.children import die_with_parent, end_process, stop_leftover, wait_listening
from controller.config import MqttSettings
from controller.mqtt.accounts import BrokerAccount, render_acl, render_passwords, write_private
from controller.mqtt.queue_sizing import queue_limit
from controller.tls import TlsFiles, tls_files
from protocol import topics
from protocol.broker_url import parse_broker_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TlsListener:
    """A TLS listener for devices on the network: where, and with which certificate files."""

    port: int
    files: TlsFiles
    host: str = "0.0.0.0"  # noqa: S104 - agents reach the broker over the network

    def config_lines(self) -> list[str]:
        """The mosquitto.conf lines of this listener (TLS 1.2 or newer, password login as elsewhere)."""
        if not self.files.complete():
            raise FileNotFoundError(
                f"TLS certificates are missing in {self.files.directory}: run `loaxa broker certs --host ...`"
            )
        return [
            f"listener {self.port} {self.host}",
            "use_username_as_clientid true",
            f"cafile {self.files.ca_cert}",
            f"certfile {self.files.server_cert}",
            f"keyfile {self.files.server_key}",
            "tls_version tlsv1.2",
        ]


def tls_listener(mqtt: MqttSettings, data_dir: Path) -> TlsListener | None:
    """The TLS listener the settings ask for (`LOAXA_MQTT_TLS_PORT`), with the files in data_dir/tls."""
    if mqtt.tls_port is None:
        return None
    return TlsListener(mqtt.tls_port, tls_files(data_dir), host=mqtt.tls_host)


@dataclass(frozen=True)
class Bridge:
    """A commune relay's bridge to the province broker: device uplink out, plans and commands in."""

    url: str
    username: str
    password: str
    name: str
    cafile: Path | None = None
    protocol: Literal["mqttv311", "mqttv50"] = "mqttv311"
    retry_max_s: int = 30

    def config_lines(self) -> list[str]:
        """The mosquitto.conf `connection` section of this bridge."""
        host, port, tls = parse_broker_url(self.url)
        lines = [
            f"connection {self.name}",
            f"address {host}:{port}",
            f"remote_clientid {self.name}",
            f"remote_username {self.username}",
            f"remote_password {self.password}",
            f"bridge_protocol_version {self.protocol}",
            # The province keeps the bridge's subscriptions and queues plans and commands while the link
            # is down; this broker keeps the outgoing queue of device uplink (persisted, QoS 1).
            "cleansession false",
            "local_cleansession false",
            # Tells a mosquitto on the other side that this is a bridge, so retained plans stay retained
            # here (an agent that restarts during an outage still finds its plan).
            "try_private true",
            "keepalive_interval 30",
            # Jittered back-off, so a province broker restart does not bring every relay back at once.
            f"restart_timeout 1 {self.retry_max_s}",
            "notifications true",
        ]
        if tls:
            lines.append(f"bridge_cafile {self.cafile}" if self.cafile else "bridge_capath /etc/ssl/certs")
        lines += [f"topic {topics.fleet_filter(c)} in 1" for c in topics.DOWNLINK_CHANNELS]
        lines.append(f"topic {topics.AREA_FILTER} in 1")  # the province's ACL gives it its areas' only
        # Heartbeats are QoS 0 on purpose: a stale one is worth nothing once the link is back.
        lines += [
            f"topic {topics.fleet_filter(c)} out {0 if c == 'heartbeat' else 1}"
            for c in topics.UPLINK_CHANNELS
        ]
        return lines


def bridge(mqtt: MqttSettings) -> Bridge | None:
    """The bridge the settings ask for (`LOAXA_MQTT_BRIDGE_URL` and its account), or None."""
    if mqtt.bridge_url is None or mqtt.bridge_username is None or mqtt.bridge_password is None:
        return None
    return Bridge(
        url=mqtt.bridge_url,
        username=mqtt.bridge_username,
        password=mqtt.bridge_password,
        name=mqtt.bridge_name or mqtt.bridge_username,
        cafile=mqtt.bridge_cafile,
        protocol=mqtt.bridge_protocol,
        retry_max_s=mqtt.bridge_retry_max_s,
    )


# AF_UNIX paths hold at most 108 bytes; a deeper data directory gets its socket in a private temp dir.
_MAX_SOCKET_PATH = 100


def _controller_socket(workdir: Path) -> Path:
    path = workdir.resolve() / "controller.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    short = Path(tempfile.gettempdir()) / f"loaxa-{hashlib.blake2s(bytes(path), digest_size=6).hexdigest()}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short / "mqtt.sock"


class ManagedBroker:
    """A mosquitto 2 child process configured from loaxa's accounts.

    Devices connect on the TCP (and TLS) listener, where mosquitto replaces each client id by the login
    (`use_username_as_clientid`): a device cannot take another's id, nor the controller's, and so cannot
    throw it off the broker (DESIGN §5: device id = username = client id). The controller connects on
    a Unix socket in the broker's directory (`controller_url`), where its stable client id is kept, so
    its persistent session survives restarts and several of its workers may share the uplink.
    """

    name = "mosquitto"

    def __init__(
        self,
        workdir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        tls: TlsListener | None = None,
        bridge: Bridge | None = None,
    ) -> None:
        self.workdir = workdir
        self.host = host
        self.port = port
        self.tls = tls
        self.bridge = bridge
        self._process: subprocess.Popen[bytes] | None = None
        self._accounts: list[BrokerAccount] = []
        # Web threads (a device changed here) and the account watcher (changed elsewhere) both reload.
        self._lock = threading.Lock()
        self.conf_path = workdir / "mosquitto.conf"
        self.passwd_path = workdir / "passwd"
        self.acl_path = workdir / "acl"
        self.log_path = workdir / "mosquitto.log"
        self.pid_path = workdir / "mosquitto.pid"
        self.controller_socket = _controller_socket(workdir)

    @property
    def url(self) -> str:
        """The broker's URL as devices should use it."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def controller_url(self) -> str:
        """The URL of the controller's own listener (a Unix socket; client ids are kept there)."""
        return f"unix://{self.controller_socket}"

    def write_files(self, accounts: Iterable[BrokerAccount]) -> None:
        """Write config, password file and ACL for these accounts."""
        accounts = list(accounts)
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        write_private(self.passwd_path, render_passwords(accounts))
        write_private(self.acl_path, render_acl(accounts))
        conf = [
            "# Written by loaxa (managed broker); edits here are overwritten.",
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {self.passwd_path}",
            f"acl_file {self.acl_path}",
            f"listener {self.port} {self.host}",
            "use_username_as_clientid true",
            f"listener 0 {self.controller_socket}",
            # When started as root mosquitto would switch to the `mosquitto` user, which cannot read the
            # private files above; naming the current user keeps it as is (ignored when not root).
            f"user {getpass.getuser()}",
            "persistence true",
            f"pid_file {self.pid_path}",
            f"persistence_location {self.workdir / 'data'}/",
            "autosave_interval 60",
            f"max_queued_messages {queue_limit(accounts)}",  # sized for the fleet: see queue_sizing
            "message_size_limit 2097152",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        ]
        if self.tls is not None:
            conf += self.tls.config_lines()
        if self.bridge is not None:
            conf += self.bridge.config_lines()  # last: every line after `connection` belongs to it
        write_private(self.conf_path, "\n".join(conf) + "\n")

    def start(self, accounts: Iterable[BrokerAccount], *, timeout: float = 10.0) -> None:
        """Write the files and start mosquitto; return once it accepts connections."""
        self._accounts = list(accounts)
        self.launch(timeout=timeout)

    def launch(self, *, timeout: float = 10.0) -> None:
        """Start mosquitto with the accounts of the last start or reload (also the supervisor's restart).

        The child gets SIGTERM when the thread that started it ends (`die_with_parent`); one left over by
        a process that could not pass that on (its pid file names a live mosquitto of this config) is
        stopped first, so the broker comes back on the configured port.
        """
        self.write_files(self._accounts)
        stop_leftover(self.pid_path, str(self.conf_path))
        self.controller_socket.unlink(missing_ok=True)
        log_file = self.log_path.open("ab")
        self._process = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf_path)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Safe with threads here: the hook only calls prctl, looked up before any fork.
            preexec_fn=die_with_parent,  # noqa: PLW1509
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        if wait_listening(self._process, "mosquitto", (self.host, self.port), deadline, self.log_path):
            log.info("managed mosquitto listening on %s (pid %s)", self.url, self._process.pid)
            return
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.host}:{self.port} within {timeout} s")

    def exit_code(self) -> int | None:
        """The exit status of the last mosquitto process, once it has ended."""
        return None if self._process is None else self._process.poll()

    def reload(self, accounts: Iterable[BrokerAccount]) -> None:
        """Rewrite the files and make mosquitto re-read them (SIGHUP).

        New devices can connect at once. On SIGHUP mosquitto 2 also checks every connected client against
        the new password file and disconnects those that no longer pass (a revoked device, an old
        password): measured with 2.0.11, see docs/operations.md.
        """
        with self._lock:
            self._accounts = list(accounts)
            self.write_files(self._accounts)
            if self._process is not None and self._process.poll() is None:
                self._process.send_signal(signal.SIGHUP)
                log.info("managed mosquitto reloaded its accounts (%d)", len(self._accounts))

    @property
    def accounts(self) -> list[BrokerAccount]:
        """The accounts of the last start or reload (what mosquitto's files hold)."""
        with self._lock:
            return list(self._accounts)

    def sync(self, accounts: Iterable[BrokerAccount]) -> bool:
        """Reload when these accounts differ from the ones mosquitto has; True when it reloaded."""
        accounts = list(accounts)
        with self._lock:
            unchanged = accounts == self._accounts
        if not unchanged:
            self.reload(accounts)
        return not unchanged

    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self, *, timeout: float = 5.0) -> None:
        """Stop mosquitto (it saves its persistence file on SIGTERM)."""
        if self._process is None:
            return
        end_process(self._process, timeout)
        self._process = None
