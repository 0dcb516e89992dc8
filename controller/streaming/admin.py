"""What the controller asks an Icecast over HTTP about live mounts: is a sender on it, and kick the sender.

Owns those requests for both modes: the managed Icecast (its admin login) and a province's own
(LOAXA_STREAM_MODE=external, a server the controller does not run). How they were chosen, checked against
Icecast 2.4.4 (Debian's `icecast2`):
- *Is a sender on the mount?* With an admin login, `/admin/listmounts` lists the mounts with a source.
  Without one (a province need not give its admin password away), the public `status-json.xsl`, whose
  `listenurl` entries name the mounts with a source. A province that sends listener checks to the controller
  with a default mount (`<mount type="default">` with URL authentication, docs/streaming.md) has Icecast
  ask about *every* request, the status page included, so that page is asked for with a signed listener
  token (the caller passes the signed URL).
- *Kick the sender* (`/admin/killsource?mount=`): Icecast takes the admin login, or the source login of
  that mount for that mount's admin commands, so it works in external mode without the admin password.
- *Is the source login taken?* `source_accepted`: a PUT that stops at Icecast's answer, as a sender starts.
Must not sign URLs (controller.streaming.listeners) nor decide when to ask (controller.live.desk).
"""

import base64
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import quote, unquote, urlsplit

TIMEOUT_S: Final = 2.0


@dataclass(frozen=True)
class IcecastLogin:
    """A user name and password Icecast checks with HTTP Basic authentication."""

    user: str
    password: str

    def basic(self) -> str:
        """The value of an `Authorization` header for this login."""
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()


def source_url(base_url: str, login: IcecastLogin, mount: str) -> str:
    """An `icecast://user:password@host:port/mount` URL a sender (ffmpeg) feeds `mount` with."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    password = quote(login.password, safe="")
    return f"icecast://{login.user}:{password}@{parts.hostname}:{port}{mount}"


def probe_source(ingest_url: str) -> Literal["accepted", "refused", "unreachable"]:
    """Whether Icecast takes this `icecast://user:pw@host:port/mount` now (a PUT cut after the answer)."""
    parts = urlsplit(ingest_url)
    login = IcecastLogin(parts.username or "", unquote(parts.password or ""))
    request = (
        f"PUT {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\nAuthorization: {login.basic()}\r\n"
        "Content-Type: audio/mpeg\r\nExpect: 100-continue\r\n\r\n"
    )
    try:
        address = (parts.hostname or "127.0.0.1", parts.port or 8000)
        with socket.create_connection(address, timeout=TIMEOUT_S) as sock:
            sock.sendall(request.encode())
            answer = sock.recv(64)
    except OSError:
        return "unreachable"
    if answer.startswith((b"HTTP/1.1 100", b"HTTP/1.1 200", b"HTTP/1.0 200")):
        return "accepted"
    return "refused" if answer.startswith(b"HTTP/") else "unreachable"


def source_accepted(ingest_url: str) -> bool:
    """Whether Icecast takes this source URL now."""
    return probe_source(ingest_url) == "accepted"


def _get(url: str, login: IcecastLogin | None) -> str:
    request = urllib.request.Request(url)  # noqa: S310 - the configured Icecast's http(s) URL
    if login is not None:
        request.add_header("Authorization", login.basic())
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - as above
        return str(response.read().decode(errors="replace"))


@dataclass(frozen=True)
class IcecastAdmin:
    """The live-mount requests to one Icecast: its base URL, an admin login if any, the source login."""

    base_url: str
    source: IcecastLogin
    admin: IcecastLogin | None = None

    def has_source(self, mount: str, status_url: str) -> bool:
        """Whether a sender feeds `mount`; `status_url` is status-json.xsl (signed) for servers without admin.

        Raises OSError when the server does not answer.
        """
        if self.admin is not None:
            return f'mount="{mount}"' in _get(f"{self.base_url}/admin/listmounts", self.admin)
        # `"listenurl":"http://host:port/live-…"`: the mount ends a JSON string. Matched as text, not
        # parsed: Icecast 2.4's status-json.xsl turns some stream titles into invalid JSON.
        return f'{mount}"' in _get(status_url, None)

    def kill_source(self, mount: str) -> bool:
        """Disconnect the sender of `mount` (admin login, else that mount's source login); False if none."""
        url = f"{self.base_url}/admin/killsource?mount={quote(mount)}"
        try:
            _get(url, self.admin or self.source)
        except OSError:
            return False
        return True


def admin_accepted(admin: IcecastAdmin) -> bool:
    """Whether the admin login (if any) opens /admin/listmounts; raises OSError when nobody answers."""
    if admin.admin is None:
        return True
    try:
        _get(f"{admin.base_url}/admin/listmounts", admin.admin)
    except urllib.error.HTTPError as exc:
        exc.close()
        return False
    return True
