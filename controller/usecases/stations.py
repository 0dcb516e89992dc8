"""Station use cases: add, change and retire a station to relay, each committed and announced.

The announcement lets the runtime give the managed Icecast its relay mounts and re-plan relay items
(their URLs come from the station). Probing a URL for audio is the caller's (controller.streaming.probe).
"""

from collections.abc import Callable
from datetime import datetime

from controller.db import Database
from controller.services import stations
from controller.services.stations import StationView
from controller.services.views import UserView
from controller.usecases._announce import Announcer


class StationUseCases:
    """Stations as committed, announced steps."""

    def __init__(self, db: Database, clock: Callable[[], datetime], announcer: Announcer) -> None:
        self._db = db
        self._clock = clock
        self._announce = announcer

    def create(self, actor: UserView, *, name: object, urls: object) -> StationView:
        """Add a station."""
        with self._db.session() as session:
            view = stations.create_station(session, actor, self._clock(), name=name, urls=urls)
        self._announce.station(view.id)
        return view

    def update(
        self, actor: UserView, station_id: int, *, name: object = None, urls: object = None
    ) -> StationView:
        """Rename a station or replace its URLs."""
        with self._db.session() as session:
            view = stations.update_station(session, actor, station_id, self._clock(), name=name, urls=urls)
        self._announce.station(view.id)
        return view

    def retire(self, actor: UserView, station_id: int) -> StationView:
        """Take a station out of service."""
        with self._db.session() as session:
            view = stations.retire_station(session, actor, station_id, self._clock())
        self._announce.station(view.id)
        return view
