"""Reading the as-run log (what played where and when) for the UI, the REST API and CSV reports.

Owns queries on plays and what each aired (`source`: a file, or a relayed station); must not write them
(ingest does). The gaps of a relay (which URL played when) are reported by agents; this log shows them
once they are stored.
"""

from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Play
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
    limit: int = 1000,
    offset: int = 0,
) -> list[PlayView]:
    """Plays that started (or, with no start recorded, ended) in [start, end), oldest first."""
    if start is not None and end is not None and end <= start:
        raise ValidationFailed(f"plays: 'to' {end.isoformat()} is not after 'from' {start.isoformat()}")
    if not 1 <= limit <= MAX_PLAYS:
        raise ValidationFailed(f"plays: limit {limit} must be 1–{MAX_PLAYS}")
    at = func.coalesce(Play.started_at, Play.finished_at)
    query = (
        select(Play, Bulletin.source)
        .outerjoin(Bulletin, Bulletin.id == Play.bulletin_id)
        .order_by(at, Play.id)
        .limit(limit)
        .offset(max(offset, 0))
    )
    if start is not None:
        query = query.where(at >= start)
    if end is not None:
        query = query.where(at < end)
    if device_id is not None:
        query = query.where(Play.device_id == device_id)
    if bulletin_id is not None:
        query = query.where(Play.bulletin_id == bulletin_id)
    return [
        PlayView(
            device_id=p.device_id,
            bulletin_id=p.bulletin_id,
            item_id=p.item_id,
            started_at=p.started_at,
            finished_at=p.finished_at,
            status=p.status,
            reason=p.reason,
            source=play_source(source),
        )
        for p, source in session.execute(query)
    ]


def play_source(stored: dict[str, Any] | None) -> dict[str, Any]:
    """What a play aired (DESIGN §8): `{"kind": "file"}`, or `{"kind": "relay", "station": ID}`."""
    if not stored or stored.get("kind") != "relay":
        return {"kind": "file"}
    return {"kind": "relay", "station": stored.get("station")}
