"""The managed Icecast2 (DESIGN §13): a child process the controller configures and supervises.

Owns the process and its files in one directory (icecast.xml, credentials.json, icecast.log, the pid
file and the chosen port); controller.children's Supervisor restarts it when it dies, like the managed
mosquitto. Stations reach it as `RelayMount`s (callers read the database). Must not sign listener URLs
(controller.streaming.listeners) nor know HTTP frameworks.
"""

import base64
import hashlib
import logging
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Final

from controller.children import die_with_parent, end_process, stop_leftover, wait_listening
from controller.mqtt.accounts import write_private
from controller.streaming.admin import IcecastLogin, source_url
from controller.streaming.credentials import (
    ADMIN_USER,
    SOURCE_USER,
    IcecastCredentials,
    load_or_create_credentials,
)
from controller.streaming.icecast_config import IcecastLayout, RelayMount, SourceMount, render_config

log = logging.getLogger(__name__)

PROGRAM: Final = "icecast2"
ROOT_USER: Final = "icecast2"  # the Debian package's system user, used when the controller runs as root


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(directory: Path, host: str, name: str = "port") -> int:
    """The port kept in `directory/name` when it is still free, else a new free one (then kept there).

    Plans carry relay URLs with Icecast's port, and icecast.xml the listener gate's, so each stays the
    same across restarts whenever it can.
    """
    directory.mkdir(parents=True, exist_ok=True)
    kept = directory / name
    if kept.exists() and kept.read_text().strip().isdigit():
        port = int(kept.read_text().strip())
        if _port_is_free(host, port):
            return port
    port = _free_port(host)
    kept.write_text(f"{port}\n")
    return port


def _run_as() -> pwd.struct_passwd | None:
    """The user Icecast runs as when the controller is root (Icecast refuses root); None otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(ROOT_USER)
    except KeyError:
        raise RuntimeError(
            f"icecast2 không chạy dưới quyền root và máy này không có người dùng {ROOT_USER!r}: "
            "hãy cài gói icecast2 (apt-get install icecast2) hoặc chạy loaxa bằng một người dùng thường"
        ) from None


def _runtime_dir(directory: Path, user: pwd.struct_passwd) -> Path:
    """A private directory of `user` for the copy of icecast.xml it reads (data_dir is root's, 0700)."""
    digest = hashlib.blake2s(bytes(directory.resolve()), digest_size=6).hexdigest()
    path = Path(tempfile.gettempdir()) / f"loaxa-icecast-{digest}"
    path.mkdir(mode=0o700, exist_ok=True)
    os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(0o700)
    return path


class ManagedIcecast:
    """An Icecast 2.4 child process configured by loaxa (a `controller.children.Child`)."""

    name = "icecast"

    def __init__(self, directory: Path, *, host: str, port: int | None, auth_url: str) -> None:
        self.directory = directory
        self.host = host
        self.port = port if port is not None else choose_port(directory, host)
        self.credentials: IcecastCredentials = load_or_create_credentials(directory)
        self.layout = IcecastLayout(host=host, port=self.port, auth_url=auth_url, directory=str(directory))
        self.conf_path = directory / "icecast.xml"
        # Started by root, Icecast runs as the Debian package's user from the start (not through its own
        # <changeowner>, which would clear the parent-death signal), reading a copy it may read.
        self._user = _run_as()
        self._read_path = (
            self.conf_path if self._user is None else _runtime_dir(directory, self._user) / "icecast.xml"
        )
        self.log_path = directory / "icecast.log"
        self.pid_path = directory / "icecast.pid"
        self._relays: tuple[RelayMount, ...] = ()
        self._sources: tuple[SourceMount, ...] = ()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL as loaxa's own processes reach it."""
        return f"http://{self.host}:{self.port}"

    def source_url(self, mount: str, password: str | None = None) -> str:
        """An `icecast://` URL ffmpeg can send a mount's audio to (default: the general source password)."""
        return source_url(
            self.url, IcecastLogin(SOURCE_USER, password or self.credentials.source_password), mount
        )

    def write_files(self) -> None:
        """Write icecast.xml for the current relays and source mounts (and the copy Icecast reads)."""
        text = render_config(self.layout, self.credentials, self._relays, self._sources)
        write_private(self.conf_path, text)
        if self._user is not None:
            write_private(self._read_path, text)
            os.chown(self._read_path, self._user.pw_uid, self._user.pw_gid)

    def configure(
        self, relays: tuple[RelayMount, ...] | None = None, sources: tuple[SourceMount, ...] | None = None
    ) -> bool:
        """Set the relays and/or the source mounts (None keeps them); True when anything changed."""
        wanted = (self._relays if relays is None else relays, self._sources if sources is None else sources)
        changed = wanted != (self._relays, self._sources)
        self._relays, self._sources = wanted
        return changed

    def launch(self, timeout: float = 10.0) -> None:
        """Write the files and start Icecast; return once it accepts connections (the supervisor's start)."""
        self.write_files()
        stop_leftover(self.pid_path, str(self._read_path))
        user = self._user
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                [PROGRAM, "-c", str(self._read_path)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                user=None if user is None else user.pw_uid,
                group=None if user is None else user.pw_gid,
                extra_groups=None if user is None else [],
                # Safe with threads here: the hook only calls prctl, looked up before any fork; Python
                # runs it after changing the user, so the parent-death signal survives.
                preexec_fn=die_with_parent,  # noqa: PLW1509
            )
        self.pid_path.write_text(f"{self._process.pid}\n")
        deadline = time.monotonic() + timeout
        if wait_listening(self._process, "icecast2", (self.host, self.port), deadline, self.log_path):
            log.info("managed icecast listening on %s (pid %s)", self.url, self._process.pid)
            self._wait_for_relays(deadline)
            return
        self.stop()
        raise RuntimeError(f"icecast2 did not listen on {self.host}:{self.port} within {timeout} s")

    def listed_mounts(self) -> str:
        """Icecast's own list of its mounts (admin/listmounts, XML), read with the admin password."""
        request = urllib.request.Request(f"{self.url}/admin/listmounts")  # noqa: S310 - our own http URL
        login = base64.b64encode(f"{ADMIN_USER}:{self.credentials.admin_password}".encode()).decode()
        request.add_header("Authorization", f"Basic {login}")
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - our own http URL
            return str(response.read().decode(errors="replace"))

    def _wait_for_relays(self, deadline: float) -> None:
        """Wait until the on-demand relay mounts are set up (Icecast's relay thread takes about a second).

        An agent that falls back to one right after a restart then finds it.
        """
        wanted = [f'mount="{r.mount}"' for r in self._relays if r.on_demand]
        while wanted and time.monotonic() < deadline:
            try:
                listed = self.listed_mounts()
            except OSError:
                listed = ""
            if all(mount in listed for mount in wanted):
                return
            time.sleep(0.1)
        if wanted:
            log.warning("managed icecast has not set up its relay mounts yet; agents may wait for them")

    def reload(self) -> None:
        """Rewrite icecast.xml and make the running Icecast re-read it (SIGHUP): relays and mounts follow."""
        self.write_files()
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGHUP)
            log.info("managed icecast re-reads its configuration")

    def running(self) -> bool:
        """True while the child process is alive."""
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        """The exit status of the last Icecast process, once it has ended."""
        return None if self._process is None else self._process.poll()

    @property
    def pid(self) -> int | None:
        """The process id of the running Icecast, if any."""
        return self._process.pid if self.running() and self._process is not None else None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop Icecast."""
        if self._process is None:
            return
        end_process(self._process, timeout)
        self._process = None
