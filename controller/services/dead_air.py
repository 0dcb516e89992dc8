"""Recent dead-air reports of the clusters, for the dead-air alert rule (controller.alerts.rules.DeadAir).

Owns reading them for the rule: the spans that ingest stores in `dead_air` (controller.services.onair), one
row per device and start, whose end moves on while the silence lasts. Must not decide what is worth an
alert.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import DeadAir


def dead_air_reports(session: Session, since: datetime) -> list[tuple[str, datetime, float | None]]:
    """(device id, start, length in seconds) of each dead-air span still going or ended after `since`."""
    rows = session.execute(
        select(DeadAir.device_id, DeadAir.started_at, DeadAir.ended_at)
        .where(DeadAir.ended_at >= since)
        .order_by(DeadAir.device_id, DeadAir.started_at)
    )
    return [(device_id, start, round((end - start).total_seconds(), 1)) for device_id, start, end in rows]
