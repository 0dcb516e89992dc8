"""Device use cases: provisioning, renaming, moving and revoking a cluster, committed and announced.

The announcement lets a running controller's managed broker take the change at once (a new login, a
revoked one thrown off); a change made by another process (`loaxa device ...` against the same database)
reaches it within seconds through controller.mqtt.account_sync.
"""

from collections.abc import Callable
from datetime import datetime

from controller import services
from controller.db import Database
from controller.services.views import DeviceView, ProvisionedDevice
from controller.usecases._announce import Announcer


class DeviceUseCases:
    """Devices as committed, announced changes."""

    def __init__(self, db: Database, clock: Callable[[], datetime], announcer: Announcer) -> None:
        self._db = db
        self._clock = clock
        self._announce = announcer

    def provision(
        self, *, device_id: str, name: str, village_id: str, speakers: int = 2, actor: str | None = None
    ) -> ProvisionedDevice:
        """Register a device; its MQTT password is in the result, shown once, and only its hash is kept."""
        with self._db.session() as session:
            provisioned = services.provision_device(
                session, device_id, self._clock(), name=name, village_id=village_id, speakers=speakers,
                actor=actor,
            )  # fmt: skip
        self._announce.device(provisioned.device.id)
        return provisioned

    def update(
        self,
        device_id: str,
        *,
        name: str | None = None,
        village_id: str | None = None,
        actor: str | None = None,
    ) -> DeviceView:
        """Rename a device and/or move it to another village; its plans follow the new village's windows."""
        with self._db.session() as session:
            view = services.update_device(
                session, device_id, self._clock(), name=name, village_id=village_id, actor=actor
            )
        self._announce.device(device_id)
        return view

    def revoke(self, device_id: str, *, actor: str | None = None) -> DeviceView:
        """Revoke a device: the managed broker refuses its login and drops its connection at once."""
        with self._db.session() as session:
            view = services.revoke_device(session, device_id, self._clock(), actor=actor)
        self._announce.device(device_id)
        return view
