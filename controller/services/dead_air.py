"""Recent dead-air reports of the clusters, for the dead-air alert rule (controller.alerts.rules.DeadAir).

Owns reading them from storage: the agents' `dead_air` events as ingest stores them in device_events
(type `dead_air`, `at` = when the silence began). Until the agent's event carries its length in a column
of its own, a `reason` that is a number of seconds (or `duration_s=N`) is read as the length, and
anything else as not said. This is the one place to change when the event's storage changes. Must not
decide what is worth an alert.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import DeviceEvent

DEAD_AIR = "dead_air"


def _seconds(reason: str | None) -> float | None:
    text = (reason or "").removeprefix("duration_s=")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 else None


def dead_air_reports(session: Session, since: datetime) -> list[tuple[str, datetime, float | None]]:
    """(device id, start, length in seconds or None) of each dead-air report that began after `since`."""
    rows = session.execute(
        select(DeviceEvent.device_id, DeviceEvent.at, DeviceEvent.reason)
        .where(DeviceEvent.type == DEAD_AIR, DeviceEvent.at >= since)
        .order_by(DeviceEvent.device_id, DeviceEvent.at)
    )
    return [(device_id, at, _seconds(reason)) for device_id, at, reason in rows]
