"""The streaming server as the rest of the controller sees it: managed Icecast, a province's, or none.

Owns the choice of mode (LOAXA_STREAM_MODE), the supervisor of a managed Icecast, keeping its relay
mounts in step with the stations, signing listener URLs for agents, and the live mounts: their ingest URLs,
whether a sender is on one, kicking it. External mode (a province's own Icecast by URL) carries live
sessions with its source login (LOAXA_STREAM_SOURCE_USER/PASSWORD) and asks our listener check only if the
province configured it so (docs/streaming.md "A province's Icecast"); it has no relay mounts of ours, so
relay items then carry only the stations' own URLs. Must not read the database (callers pass stations).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from controller.children import Supervisor
from controller.config import Settings
from controller.streaming.admin import IcecastAdmin, IcecastLogin, source_url
from controller.streaming.credentials import ADMIN_USER, SOURCE_USER
from controller.streaming.gate import ListenerGate
from controller.streaming.icecast import ManagedIcecast, choose_port
from controller.streaming.icecast_config import (
    STATUS_PAGE,
    RelayMount,
    SourceMount,
    relay_mount,
    relayable,
)
from controller.streaming.listeners import check_mount, sign_listener_url

log = logging.getLogger(__name__)
STATUS_TOKEN_TTL: Final = timedelta(minutes=1)


@dataclass(frozen=True)
class StationUrls:
    """What the streaming server needs of a station: its id and its stream URLs in order."""

    id: int
    urls: tuple[str, ...]


class StreamingServer:
    """The controller's streaming server and the listener URLs it hands to agents."""

    def __init__(self, settings: Settings, secret: bytes) -> None:
        self.settings = settings.stream
        self._secret = secret
        self.icecast: ManagedIcecast | None = None
        self.supervisor: Supervisor | None = None
        self.gate: ListenerGate | None = None
        self.gate_supervisor: Supervisor | None = None
        if self.settings.mode == "managed":
            # Icecast asks the gate, a process of its own, about each listener (controller.streaming.gate).
            gate_host = "127.0.0.1"
            self.gate = ListenerGate(
                settings.icecast_dir,
                gate_host,
                choose_port(settings.icecast_dir, gate_host, "gate-port"),
                secret,
            )
            self.gate_supervisor = Supervisor(self.gate)
            self.icecast = ManagedIcecast(
                settings.icecast_dir,
                host=self.settings.host,
                port=self.settings.port,
                auth_url=self.gate.auth_url,
            )
            self.supervisor = Supervisor(self.icecast)
        self.admin = self._admin()
        self._relayed: frozenset[int] = frozenset()

    def _admin(self) -> IcecastAdmin | None:
        """The live-mount requests: to the managed Icecast with its own logins, or to the province's."""
        if self.icecast is not None:
            own = self.icecast.credentials
            return IcecastAdmin(
                self.icecast.url,
                IcecastLogin(SOURCE_USER, own.source_password),
                IcecastLogin(ADMIN_USER, own.admin_password),
            )
        stream = self.settings
        if stream.mode != "external" or stream.url is None or stream.source_password is None:
            return None
        admin = None
        if stream.admin_user is not None and stream.admin_password is not None:
            admin = IcecastLogin(stream.admin_user, stream.admin_password)
        return IcecastAdmin(
            stream.url.rstrip("/"), IcecastLogin(stream.source_user, stream.source_password), admin
        )

    @property
    def base_url(self) -> str | None:
        """Where agents reach the streaming server (None in mode `off`)."""
        if self.settings.mode == "managed" and self.icecast is not None and self.settings.public_url is None:
            return self.icecast.url
        return self.settings.base_url

    def start(self, stations: Iterable[StationUrls]) -> None:
        """Start a managed Icecast with a relay mount per station, and its listener gate first."""
        self.set_stations(stations)
        if self.gate_supervisor is not None:
            self.gate_supervisor.start()
        if self.supervisor is not None:
            self.supervisor.start()

    def stop(self) -> None:
        """Stop a managed Icecast and its listener gate."""
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.gate_supervisor is not None:
            self.gate_supervisor.stop()

    def set_stations(self, stations: Iterable[StationUrls]) -> None:
        """Give each station a relay mount pulling its first URL Icecast can relay; reload on a change."""
        if self.icecast is None:
            return
        relays = []
        for station in stations:
            url = next((u for u in station.urls if relayable(u)), None)
            if url is None:
                log.info("station %s has no plain-http URL: no relay mount on the controller", station.id)
                continue
            relays.append(RelayMount(relay_mount(station.id), url, on_demand=self.settings.relay_on_demand))
        self._relayed = frozenset(s.id for s in stations for r in relays if r.mount == relay_mount(s.id))
        if self.icecast.configure(relays=tuple(relays)) and self.icecast.running():
            self.icecast.reload()

    @property
    def reloads_for_mounts(self) -> bool:
        """Whether declaring source mounts reloads the server (managed: icecast.xml and SIGHUP)."""
        return self.icecast is not None

    def set_source_mounts(self, mounts: Iterable[str]) -> dict[str, str]:
        """Declare live ingest mounts; returns mount → source URL (empty: no server takes live sources).

        Managed: each mount gets its own password in icecast.xml (a sender can feed nothing else).
        External: the province's Icecast is not ours to configure; every mount takes its source login.
        """
        if self.icecast is None:
            if self.admin is None:
                return {}
            return {check_mount(m): source_url(self.admin.base_url, self.admin.source, m) for m in mounts}
        declared = tuple(SourceMount(m, self.icecast.credentials.mount_password(m)) for m in mounts)
        if self.icecast.configure(sources=declared) and self.icecast.running():
            self.icecast.reload()
        return {m.mount: self.icecast.source_url(m.mount, m.password) for m in declared}

    def source_url(self, mount: str) -> str | None:
        """Where a sender (ffmpeg) pushes a mount's audio, with the source password; None in mode `off`.

        Managed: the general source password (declared mounts have their own: `set_source_mounts`).
        External: the province's Icecast with LOAXA_STREAM_SOURCE_USER/PASSWORD (an https one needs
        ffmpeg's `-tls 1` besides this URL).
        """
        if self.icecast is not None:
            return self.icecast.source_url(check_mount(mount))
        if self.admin is None:
            return None
        return source_url(self.admin.base_url, self.admin.source, check_mount(mount))

    def mount_has_source(self, mount: str, now: datetime) -> bool:
        """Whether a sender feeds `mount` now; False when there is no server or it does not answer."""
        if self.admin is None:
            return False
        status = sign_listener_url(self.admin.base_url, STATUS_PAGE, self._secret, now + STATUS_TOKEN_TTL)
        try:
            return self.admin.has_source(mount, status)
        except OSError:
            return False

    def kill_source(self, mount: str) -> None:
        """Disconnect the sender of `mount`, if any (a live session has ended)."""
        if self.admin is not None and not self.admin.kill_source(mount):
            log.debug("mount %s had no source to kick", mount)

    def relay_url(self, station_id: int, expires_at: datetime, device: str | None = None) -> str | None:
        """A signed listener URL of the station's relay mount, or None when the controller has none."""
        base = self.base_url
        if self.settings.mode != "managed" or base is None or station_id not in self._relayed:
            return None
        return sign_listener_url(base, relay_mount(station_id), self._secret, expires_at, device)

    def health(self) -> dict[str, object]:
        """For /api/v1/health: the mode, and a managed Icecast's state, restarts and last exit."""
        if self.supervisor is None:
            return {"mode": self.settings.mode}
        health: dict[str, object] = {"mode": self.settings.mode, **self.supervisor.health()}
        if self.gate is not None and self.gate_supervisor is not None:
            health["listener_gate"] = {**self.gate_supervisor.health(), "listeners": self.gate.counts()}
        return health
