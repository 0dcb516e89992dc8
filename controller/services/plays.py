"""Reading the as-run log (what played where and when) for the UI, the REST API and CSV reports.

Owns queries on plays and what each aired (`source`: a file, a relayed station or a live session) and,
for streams, their gaps; must not write them (ingest does).
"""

from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Play
from controller.i18n import Message
from controller.services.errors import ValidationFailed
from controller.services.onair import gaps_of
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
        raise ValidationFailed(
            Message("The end of the period must come after its start. Swap or change the dates.")
        )
    if not 1 <= limit <= MAX_PLAYS:
        raise ValidationFailed(Message("Ask for 1 to {limit} plays at a time.", limit=MAX_PLAYS))
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
    if among is not None:
        query = query.where(Play.device_id.in_(among))
    rows = session.execute(query).all()
    gaps = gaps_of(session, (p.id for p, _ in rows if p.source != "file"))
    return [
        PlayView(
            device_id=p.device_id,
            bulletin_id=p.bulletin_id,
            item_id=p.item_id,
            started_at=p.started_at,
            finished_at=p.finished_at,
            status=p.status,
            reason=p.reason,
            source=play_source(p.source, source, p.session),
            url=p.url,
            session=p.session,
            gaps=tuple(gaps.get(p.id, ())),
        )
        for p, source in rows
    ]


def play_source(kind: str, bulletin_source: dict[str, Any] | None, live: str | None) -> dict[str, Any]:
    """What a play aired (DESIGN §8): `{"kind": "file"}`, `{"kind": "relay", "station": ID}` or live.

    `kind` is what the agent reported; a relay's station comes from its bulletin, a live play's session
    (`{"kind": "live", "session": ID}`) from the agent's report.
    """
    if kind == "relay" or (bulletin_source or {}).get("kind") == "relay":
        station = (bulletin_source or {}).get("station")
        return {"kind": "relay", "station": None if station is None else str(station)}  # as in plan items
    if kind == "live":
        return {"kind": "live", "session": live}
    return {"kind": "file"}
