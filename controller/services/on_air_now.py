"""What is on air now (issue 13): the clusters' last reported `playing` and the live sessions on air.

These feed the "Đang phát" card of the devices page.

Owns these reads and the titles of what plays, only. Must not change devices or sessions (ingest and
controller.usecases.live do); reading item ids is the caller's (controller.planning.item_ids).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Device, LiveSession, Station, Village


@dataclass(frozen=True)
class Playing:
    """An online cluster whose last heartbeat said it plays `item` (a plan item id, or another id)."""

    device_id: str
    village_id: str
    item: str


@dataclass(frozen=True)
class LiveOnAir:
    """A live session on air: its title, when it went on air, and the clusters it reaches."""

    id: str
    title: str
    started_at: datetime | None
    devices: tuple[str, ...]


def devices_playing(session: Session, commune_id: str | None) -> list[Playing]:
    """Online clusters (not revoked) of `commune_id` (all when None) that report playing, by id."""
    query = (
        select(Device.id, Device.village_id, Device.metrics)
        .where(Device.online.is_(True), Device.revoked_at.is_(None))
        .order_by(Device.id)
    )
    if commune_id is not None:
        query = query.join(Village).where(Village.commune_id == commune_id)
    out = []
    for device_id, village_id, metrics in session.execute(query):
        item = (metrics or {}).get("playing")
        if isinstance(item, str) and item:
            out.append(Playing(device_id, village_id, item))
    return out


def live_on_air(session: Session, commune_id: str | None) -> list[LiveOnAir]:
    """The live sessions of `commune_id` (every commune when None) on air now, oldest first."""
    query = select(LiveSession).where(LiveSession.state == "on_air").order_by(LiveSession.created_at)
    if commune_id is not None:
        query = query.where(LiveSession.commune_id == commune_id)
    return [
        LiveOnAir(row.id, row.title, row.started_at, tuple(row.devices)) for row in session.scalars(query)
    ]


def what_plays(session: Session, bulletin_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """Bulletin id → (title, the relayed station's name or None), in one query (two with relay slots)."""
    if not bulletin_ids:
        return {}
    rows = session.execute(
        select(Bulletin.id, Bulletin.title, Bulletin.source).where(Bulletin.id.in_(bulletin_ids))
    ).all()
    relayed = {r.source["station"] for r in rows if r.source is not None and r.source.get("kind") == "relay"}
    names: dict[int, str] = {}
    if relayed:
        names = {
            i: n for i, n in session.execute(select(Station.id, Station.name).where(Station.id.in_(relayed)))
        }
    return {
        r.id: (r.title, None if r.source is None else names.get(r.source.get("station"), r.title))
        for r in rows
    }
