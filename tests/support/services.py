"""Real services for tests: a mosquitto broker and a PostgreSQL server on free loopback ports."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from controller.mqtt.accounts import BrokerAccount, hash_password
from controller.mqtt.broker import ManagedBroker


def _connack_ok(client: mqtt.Client) -> bool:
    """Run the client's loop until CONNACK; True when the broker accepted the login."""
    result: list[bool] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: result.append(not reason.is_failure)
    deadline = time.monotonic() + 2
    while not result and time.monotonic() < deadline:
        client.loop(timeout=0.05)
    return bool(result and result[0])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrokerFixture:
    """A managed mosquitto for tests, with helpers to add accounts (plain passwords kept for clients)."""

    CONTROLLER = "loaxa-controller"

    def __init__(self, workdir: Path) -> None:
        self.managed = ManagedBroker(workdir, port=free_port())
        self.passwords: dict[str, str] = {}
        self._accounts: dict[str, BrokerAccount] = {}
        self.add(self.CONTROLLER, "controller-secret", role="controller")

    @property
    def host(self) -> str:
        return self.managed.host

    @property
    def port(self) -> int:
        return self.managed.port

    @property
    def url(self) -> str:
        return self.managed.url

    @property
    def controller_url(self) -> str:
        """The controller's own listener (a Unix socket), where client ids are not replaced by the login."""
        return self.managed.controller_url

    def add(self, username: str, password: str, *, role: str = "device", areas: tuple[str, ...] = ()) -> None:
        self.passwords[username] = password
        self._accounts[username] = BrokerAccount(username, hash_password(password), role, areas=areas)  # type: ignore[arg-type]
        if self.managed.running():
            self.managed.reload(self._accounts.values())
            self.wait_accepts(username, password)

    def wait_accepts(self, username: str, password: str, timeout: float = 5.0) -> None:
        """Wait until the broker has re-read its password file (SIGHUP is handled asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{username}")
            client.username_pw_set(username, password)
            try:
                accepted = client.connect(self.host, self.port) == mqtt.MQTT_ERR_SUCCESS and _connack_ok(
                    client
                )
            finally:
                client.disconnect()
            if accepted:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"broker did not accept {username} within {timeout} s of reloading")
            time.sleep(0.05)

    def start(self) -> None:
        self.managed.start(self._accounts.values())

    def stop(self) -> None:
        self.managed.stop()


@contextmanager
def running_broker(workdir: Path) -> Iterator[BrokerFixture]:
    broker = BrokerFixture(workdir)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _pg_bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a throw-away PostgreSQL cluster and yield its SQLAlchemy URL (database `loaxa`)."""
    if url := os.environ.get("LOAXA_TEST_POSTGRES_URL"):
        yield url
        return
    bindir = _pg_bindir()
    required = os.environ.get("CI") == "true" or os.environ.get("LOAXA_REQUIRE_POSTGRES") == "1"
    if bindir is None:
        if required:
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql); `make test` installs it")
        pytest.skip("PostgreSQL not installed: run `make test`, which installs it")
    # PostgreSQL runs as its own user when we are root, and pytest's temp tree is private (0700):
    # the cluster lives in a directory of its own that user can reach.
    workdir = Path(tempfile.mkdtemp(prefix="loaxa-pg-"))
    datadir, sockdir = workdir / "pgdata", workdir / "pgsock"
    sockdir.mkdir(exist_ok=True)
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(workdir, "postgres")
        shutil.chown(sockdir, "postgres")
        workdir.chmod(0o755)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(datadir), "-U", "loaxa", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            options,
            "-l",
            str(workdir / "pg.log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            probe = subprocess.run(
                [
                    *run_as,
                    str(bindir / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "loaxa",
                    "loaxa",
                ],
                check=False,
                capture_output=True,
            )
            if probe.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        yield f"postgresql+psycopg://loaxa@127.0.0.1:{port}/loaxa"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)
