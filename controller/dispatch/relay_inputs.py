"""A relay slot's planning input: its station's URLs now, then the controller's relay, signed for the day.

Owns turning an approved relay bulletin into the planner's `RelaySource` (controller.planning.model) and
which devices may be sent relay items (protocol.sources.reads_sources). It decides no placement.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from controller.db.models import Station
from controller.planning.model import RelaySource
from controller.services.views import BulletinView
from protocol.sources import MAX_STREAM_URLS

log = logging.getLogger(__name__)

#: `relay_url(station_id, expires_at)` → the controller's signed listener URL of its relay of that
#: station, or None when it has none (no managed Icecast, or no URL Icecast can relay).
RelayUrl = Callable[[int, datetime], str | None]


def relay_source(
    session: Session, bulletin: BulletinView, relay_url: RelayUrl | None, expires_at: datetime
) -> RelaySource | None:
    """The slot's stream URLs in order, or None when its station is gone (the slot is then not planned)."""
    source = bulletin.source or {}
    station = session.get(Station, int(source["station"]))
    if station is None or station.retired:
        log.warning("relay slot %s names station %s, which is retired: not planned", bulletin.id, source)
        return None
    urls = list(station.urls)[: MAX_STREAM_URLS - 1]
    fallback = None if relay_url is None else relay_url(station.id, expires_at)
    if fallback is not None:
        urls.append(fallback)
    return RelaySource(
        station=str(station.id), urls=tuple(urls), duration=timedelta(seconds=int(source["duration_s"]))
    )
