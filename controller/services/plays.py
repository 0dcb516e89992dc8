"""Reading the as-run log (what played where and when) for the UI, the REST API and CSV reports.

Owns queries on plays; must not write them (ingest does).
"""

from datetime import datetime
from typing import Final

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from controller.db.models import Play
from controller.services.errors import ValidationFailed
from controller.services.views import PlayView

MAX_PLAYS: Final = 10_000


def list_plays(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    device_id: str | None = None,
    bulletin_id: int | None = None,
    among: Select[str] | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[PlayView]:
    """Plays that started (or, with no start recorded, ended) in [start, end), oldest first.

    `among`, a query of device ids, keeps the log to those devices (a user's area, DESIGN §11).
    """
    if start is not None and end is not None and end <= start:
        raise ValidationFailed(f"plays: 'to' {end.isoformat()} is not after 'from' {start.isoformat()}")
    if not 1 <= limit <= MAX_PLAYS:
        raise ValidationFailed(f"plays: limit {limit} must be 1–{MAX_PLAYS}")
    at = func.coalesce(Play.started_at, Play.finished_at)
    query = select(Play).order_by(at, Play.id).limit(limit).offset(max(offset, 0))
    if start is not None:
        query = query.where(at >= start)
    if end is not None:
        query = query.where(at < end)
    if device_id is not None:
        query = query.where(Play.device_id == device_id)
    if bulletin_id is not None:
        query = query.where(Play.bulletin_id == bulletin_id)
    if among is not None:
        query = query.where(Play.device_id.in_(among))
    return [
        PlayView(
            device_id=p.device_id,
            bulletin_id=p.bulletin_id,
            item_id=p.item_id,
            started_at=p.started_at,
            finished_at=p.finished_at,
            status=p.status,
            reason=p.reason,
        )
        for p in session.scalars(query)
    ]
