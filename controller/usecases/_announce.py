"""How a use case tells the runtime about a committed change; a failing listener never undoes the change."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Announcer:
    """Who hears of committed changes: the runtime (or a test's recorder).

    `bulletin_changed(id)` after every bulletin state change; `device_changed(id)` after a device is
    provisioned, moved or revoked (the managed broker reloads its accounts); `station_changed(id)` after a
    station is added, changed or retired (the streaming server's relays follow, relay items are re-planned).
    """

    bulletin_changed: Callable[[int], None]
    device_changed: Callable[[str], None] | None = None
    station_changed: Callable[[int], None] | None = None

    def bulletin(self, bulletin_id: int) -> None:
        """Announce a committed bulletin change."""
        _tell("bulletin_changed", self.bulletin_changed, bulletin_id)

    def device(self, device_id: str) -> None:
        """Announce a committed device change."""
        _tell("device_changed", self.device_changed, device_id)

    def station(self, station_id: int) -> None:
        """Announce a committed station change."""
        _tell("station_changed", self.station_changed, station_id)


def _tell(name: str, listener: Callable[[T], None] | None, argument: T) -> None:
    """Call the listener; log its failure instead of reporting it to the caller.

    The change is in the database already, so an error answer would make a client retry a step that was
    done; the runtime also re-plans on its own schedule, which repairs a missed announcement.
    """
    if listener is None:
        return
    try:
        listener(argument)
    except Exception:
        log.exception("listener %s(%r) failed; the change is saved and will be planned later", name, argument)
