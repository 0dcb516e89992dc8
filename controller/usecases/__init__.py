"""Use cases: one committed change each, announced to the runtime (DESIGN §2).

The REST API, the HTML UI and every inbound adapter (CAP feeds, an upstream province) call these and never
copy their steps. A use case runs the services' rules in one transaction, commits, then tells its
`Announcer` (the runtime renders speech, plans, publishes, reloads the broker). It must not speak HTTP,
MQTT or SQL itself.
"""

from controller.usecases._announce import Announcer
from controller.usecases.areas import AreaUseCases
from controller.usecases.bulletins import BulletinDraft, BulletinUseCases, Recording
from controller.usecases.devices import DeviceUseCases
from controller.usecases.stations import StationUseCases

__all__ = [
    "Announcer",
    "AreaUseCases",
    "BulletinDraft",
    "BulletinUseCases",
    "DeviceUseCases",
    "Recording",
    "StationUseCases",
]
