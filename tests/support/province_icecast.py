"""A second real Icecast2 standing in for a province's own server (LOAXA_STREAM_MODE=external).

Its icecast.xml is written by hand here, as a province's admin would, not by loaxa: one global source
password, an admin login, and the block docs/streaming.md asks a province for (a default mount whose
listeners are checked by URL authentication against the controller's listener-auth endpoint).
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.services import free_port

SOURCE_PASSWORD = "tinh-nguon-2026"
ADMIN_PASSWORD = "tinh-quantri-2026"

_CONFIG = """<icecast>
  <location>Sở TT&amp;TT tỉnh (thử)</location>
  <admin>radio@province.example</admin>
  <hostname>127.0.0.1</hostname>
  <limits>
    <clients>500</clients>
    <sources>20</sources>
    <burst-size>65535</burst-size>
  </limits>
  <authentication>
    <source-password>{source}</source-password>
    <relay-password>{admin}</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>{admin}</admin-password>
  </authentication>
  <listen-socket>
    <port>{port}</port>
    <bind-address>127.0.0.1</bind-address>
  </listen-socket>
  {listener_auth}
  <paths>
    <basedir>/usr/share/icecast2</basedir>
    <logdir>{directory}</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging><accesslog>-</accesslog><errorlog>-</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot></security>
</icecast>
"""
_LISTENER_AUTH = """<mount type="default">
    <authentication type="url">
      <option name="listener_add" value="{auth_url}"/>
      <option name="auth_header" value="icecast-auth-user: 1"/>
    </authentication>
  </mount>"""


@dataclass(frozen=True)
class ProvinceIcecast:
    """The running stand-in: its base URL and its log."""

    url: str
    port: int
    log: Path


@contextmanager
def province_icecast(auth_url: str | None, port: int | None = None) -> Iterator[ProvinceIcecast]:
    """Run Icecast2 with a province's configuration; `auth_url` None leaves its listeners unchecked."""
    port = port or free_port()
    directory = Path(tempfile.mkdtemp(prefix="loaxa-province-icecast-"))
    user = pwd.getpwnam("icecast2") if os.geteuid() == 0 else None  # Icecast refuses to run as root
    listener_auth = "" if auth_url is None else _LISTENER_AUTH.format(auth_url=auth_url)
    config = directory / "icecast.xml"
    config.write_text(
        _CONFIG.format(
            source=SOURCE_PASSWORD, admin=ADMIN_PASSWORD, port=port, directory=directory,
            listener_auth=listener_auth,
        ),
        encoding="utf-8",
    )  # fmt: skip
    if user is not None:
        for path in (directory, config):
            os.chown(path, user.pw_uid, user.pw_gid)
    log = directory / "icecast.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            ["icecast2", "-c", str(config)], stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, user=None if user is None else user.pw_uid,
            group=None if user is None else user.pw_gid, extra_groups=None if user is None else [],
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"province icecast did not start:\n{log.read_text()}") from None
                time.sleep(0.05)
        yield ProvinceIcecast(f"http://127.0.0.1:{port}", port, log)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)
