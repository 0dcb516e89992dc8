"""What devices aired besides their plays (issue 13): gaps of relay and live plays, and dead air.

Owns storing `gap` and `dead_air` events (the ingest calls these in its batch) and reading them back: the
gaps of as-run entries, a device's last dead air, and each device's last dead air since a time (for the
alert rules). Must not parse MQTT payloads, commit, or decide what raises an alert.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from controller.db.models import DeadAir, Play, PlayGap
from controller.services.views import DeadAirView, GapView
from protocol import Event, ProtocolError


def _span(ev: Event) -> tuple[datetime, datetime]:
    if ev.start is None or ev.end is None:  # Event.from_json refuses this already; keeps the types narrow
        raise ProtocolError("bad_field", f"event {ev.seq} {ev.type} has no span")
    return ev.start, ev.end


def record_gap(session: Session, device_id: str, ev: Event, play: Play | None) -> None:
    """Store a `gap` event (stored once: the caller inserted its (device, seq) just before)."""
    start, end = _span(ev)
    session.add(
        PlayGap(
            device_id=device_id, play_id=None if play is None else play.id, seq=ev.seq, item_id=ev.item_id,
            session=ev.session, url=ev.url, started_at=start, ended_at=end, reason=ev.reason,
            detail=None if ev.detail is None else ev.detail[:256],
        )
    )  # fmt: skip


def record_dead_air(session: Session, device_id: str, ev: Event) -> None:
    """Store a `dead_air` event: a new span, or the end of one reported as it crossed the limit."""
    start, end = _span(ev)
    ongoing = ev.detail == "ongoing"
    values = {
        "device_id": device_id, "item_id": ev.item_id, "session": ev.session, "started_at": start,
        "ended_at": end, "kind": ev.kind or "broken", "ongoing": ongoing, "seq": ev.seq,
    }  # fmt: skip
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DeadAir).values(**values)
    # The span's end moves on only with a later event (events of one device may arrive out of order).
    statement = statement.on_conflict_do_update(
        index_elements=["device_id", "started_at"],
        set_={k: statement.excluded[k] for k in ("ended_at", "kind", "ongoing", "seq")},
        where=DeadAir.seq < statement.excluded.seq,
    )
    session.execute(statement)


def gaps_of(session: Session, play_ids: Iterable[int]) -> dict[int, list[GapView]]:
    """The gaps of these plays, by play id, oldest first."""
    ids = list(play_ids)
    out: dict[int, list[GapView]] = {}
    if not ids:
        return out
    rows = session.scalars(select(PlayGap).where(PlayGap.play_id.in_(ids)).order_by(PlayGap.started_at))
    for gap in rows:
        if gap.play_id is not None:
            out.setdefault(gap.play_id, []).append(
                GapView(gap.started_at, gap.ended_at, gap.url, gap.reason, gap.detail)
            )
    return out


def _view(row: DeadAir) -> DeadAirView:
    return DeadAirView(
        device_id=row.device_id, started_at=row.started_at,
        duration_s=round((row.ended_at - row.started_at).total_seconds(), 1), kind=row.kind,
        ongoing=row.ongoing, item_id=row.item_id, session=row.session,
    )  # fmt: skip


def last_dead_air(session: Session, device_id: str) -> DeadAirView | None:
    """The device's most recent dead air, None when it never reported any."""
    row = session.scalar(
        select(DeadAir).where(DeadAir.device_id == device_id).order_by(DeadAir.started_at.desc()).limit(1)
    )
    return None if row is None else _view(row)


def recent_dead_air(session: Session, since: datetime) -> dict[str, DeadAirView]:
    """Per device, its last dead air that began or was still going at or after `since` (for alert rules)."""
    newest = (
        select(DeadAir.device_id, func.max(DeadAir.started_at).label("started_at"))
        .where(DeadAir.ended_at >= since)
        .group_by(DeadAir.device_id)
        .subquery()
    )
    rows = session.scalars(
        select(DeadAir).join(
            newest, (DeadAir.device_id == newest.c.device_id) & (DeadAir.started_at == newest.c.started_at)
        )
    )
    return {row.device_id: _view(row) for row in rows}
