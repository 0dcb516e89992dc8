"""The managed Icecast's configuration file (icecast.xml), written from loaxa's settings and stations.

Owns the XML: one listen socket (loopback unless configured), passwords from controller.streaming.
credentials, logs to stderr (the supervisor writes them into the data directory), no chroot, and for every
mount listener authentication by URL: Icecast asks the controller (`listener_add`) with the requested mount
and its query, and lets the listener in only when the answer carries `icecast-auth-user: 1`
(controller.streaming.listeners checks the signed token). A station gets a relay mount pulling its first
URL Icecast 2.4 can relay (plain http, not HLS). Must not start processes or read the database.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from controller.streaming.credentials import ADMIN_USER, IcecastCredentials
from controller.streaming.listeners import check_mount
from protocol.urls import is_hls

AUTH_HEADER: Final = "icecast-auth-user: 1"
LISTENER_AUTH_PATH: Final = "/api/v1/streaming/listener-auth"
STATUS_PAGE: Final = "/status-json.xsl"  # Icecast's public list of mounts with a source
WEB_ROOT: Final = "/usr/share/icecast2"  # the Debian package's status pages and admin templates


def relay_mount(station_id: int) -> str:
    """The controller's relay mount of a station."""
    return f"/relay-{station_id}"


def relayable(url: str) -> bool:
    """Whether Icecast 2.4 can pull this URL as a relay: plain http and not an HLS playlist."""
    parts = urlsplit(url)
    return parts.scheme == "http" and bool(parts.hostname) and not is_hls(url)


@dataclass(frozen=True)
class RelayMount:
    """A station relayed by the managed Icecast: its local mount and the upstream URL it pulls."""

    mount: str
    url: str
    on_demand: bool = True

    def __post_init__(self) -> None:
        check_mount(self.mount)
        if not relayable(self.url):
            raise ValueError(
                f"relay {self.mount}: Icecast 2.4 relays plain http streams only, not {self.url!r}"
            )


@dataclass(frozen=True)
class SourceMount:
    """A mount a sender may feed with its own password (a live session's ingest)."""

    mount: str
    password: str

    def __post_init__(self) -> None:
        check_mount(self.mount)


@dataclass(frozen=True)
class IcecastLayout:
    """Where the managed Icecast listens and whom it asks about listeners."""

    host: str
    port: int
    auth_url: str  # the controller's listener_add endpoint
    directory: str  # its own directory (Icecast wants a log directory; both logs go to stderr)
    max_listeners: int = 5000


def _sub(parent: ET.Element, tag: str, text: str | int | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = str(text)
    return element


def _listener_auth(mount: ET.Element, auth_url: str) -> None:
    auth = _sub(mount, "authentication", type="url")
    _sub(auth, "option", name="listener_add", value=auth_url)
    _sub(auth, "option", name="auth_header", value=AUTH_HEADER)


def _relay(root: ET.Element, relay: RelayMount, auth_url: str) -> None:
    """The mount (listeners ask the controller) and the relay (what it pulls) of one station."""
    mount = _sub(root, "mount", type="normal")
    _sub(mount, "mount-name", relay.mount)
    _listener_auth(mount, auth_url)
    parts = urlsplit(relay.url)
    element = _sub(root, "relay")
    _sub(element, "server", parts.hostname)
    _sub(element, "port", parts.port or 80)
    _sub(element, "mount", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    _sub(element, "local-mount", relay.mount)
    _sub(element, "on-demand", int(relay.on_demand))
    _sub(element, "relay-shoutcast-metadata", 0)
    if parts.username:
        _sub(element, "username", parts.username)
        _sub(element, "password", parts.password or "")


def render_config(
    layout: IcecastLayout,
    credentials: IcecastCredentials,
    relays: tuple[RelayMount, ...] = (),
    sources: tuple[SourceMount, ...] = (),
) -> str:
    """The text of icecast.xml."""
    root = ET.Element("icecast")
    _sub(root, "location", "loaxa")
    _sub(root, "admin", "loaxa@localhost")
    _sub(root, "hostname", layout.host)
    limits = _sub(root, "limits")
    for tag, value in (
        ("clients", layout.max_listeners + 100),
        ("sources", 2 * (len(relays) + len(sources)) + 16),
        ("queue-size", 524288),
        ("client-timeout", 30),
        ("header-timeout", 15),
        ("source-timeout", 10),
        ("burst-on-connect", 1),  # an agent's jitter buffer fills at once
        ("burst-size", 65535),
    ):
        _sub(limits, tag, value)
    auth = _sub(root, "authentication")
    _sub(auth, "source-password", credentials.source_password)
    _sub(auth, "relay-password", credentials.admin_password)
    _sub(auth, "admin-user", ADMIN_USER)
    _sub(auth, "admin-password", credentials.admin_password)
    socket = _sub(root, "listen-socket")
    _sub(socket, "port", layout.port)
    _sub(socket, "bind-address", layout.host)
    # Every mount, declared or not, asks the controller about each listener.
    _listener_auth(_sub(root, "mount", type="default"), layout.auth_url)
    for source in sources:
        mount = _sub(root, "mount", type="normal")
        _sub(mount, "mount-name", source.mount)
        _sub(mount, "password", source.password)
        _listener_auth(mount, layout.auth_url)
    for relay in relays:
        _relay(root, relay, layout.auth_url)
    _sub(root, "fileserve", 0)
    paths = _sub(root, "paths")
    _sub(paths, "basedir", WEB_ROOT)
    _sub(paths, "logdir", layout.directory)
    _sub(paths, "webroot", f"{WEB_ROOT}/web")
    _sub(paths, "adminroot", f"{WEB_ROOT}/admin")
    logging = _sub(root, "logging")
    _sub(logging, "accesslog", "-")
    _sub(logging, "errorlog", "-")
    _sub(logging, "loglevel", 3)  # 3 = info: relay starts and stops, listener refusals
    security = _sub(root, "security")
    _sub(security, "chroot", 0)
    ET.indent(root)
    return "<!-- Written by loaxa (managed Icecast); edits here are overwritten. -->\n" + ET.tostring(
        root, encoding="unicode"
    )
