"""Device use cases: provisioning a loudspeaker cluster, committed and announced.

The announcement lets a running controller's managed broker accept the new credentials at once, whether
the device was added over REST, from the UI or by `loaxa device add` against the same database.
"""

from collections.abc import Callable
from datetime import datetime

from controller import services
from controller.db import Database
from controller.services.views import ProvisionedDevice
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
