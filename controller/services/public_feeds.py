"""What the public may see (DESIGN §12): approved bulletins for the listen-again page and the feeds.

Owns the rule of what is public: a bulletin that was approved (approved, done or expired, never
cancelled or rejected), is not a drill, and is either an emergency or played on at least one cluster;
and, for the CAP feed, one that loaxa wrote itself (alerts taken in from CAP are not sent out again, so two
loaxa systems that read each other's feed cannot loop). It hands out titles, text, villages and audio
versions only: nothing about devices or staff. Must not write anything.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Area, Asset, Bulletin, BulletinAudio, Device, Play, Village
from controller.services.cap_sources import system_user_ids
from controller.services.drills import drill_bulletin_ids

PUBLIC_STATUSES: Final = ("approved", "done", "expired")
MAX_ITEMS: Final = 100
_SCAN: Final = 1000  # newest approved bulletins looked at per request


@dataclass(frozen=True)
class PublicAudio:
    """One language version's audio file."""

    language: str
    sha256: str
    bytes: int
    duration_ms: int
    mime: str


@dataclass(frozen=True)
class PublicVillage:
    """A village a public bulletin was meant for: id, name and area code."""

    id: str
    name: str
    area_code: str


@dataclass(frozen=True)
class PublicBulletin:
    """A bulletin as the public sees it."""

    id: int
    title: str
    text: str
    priority: str
    approved_at: datetime
    expires_at: datetime | None
    villages: tuple[PublicVillage, ...]
    audio: tuple[PublicAudio, ...]


def public_villages(session: Session) -> list[PublicVillage]:
    """Every village in service, by name."""
    query = (
        select(Village.id, Village.name, Village.area_code)
        .join(Area, Area.code == Village.area_code)
        .where(Area.retired.is_(False))
        .order_by(Village.name)
    )
    return [PublicVillage(i, n, c) for i, n, c in session.execute(query)]


def village_languages(session: Session, village_id: str) -> tuple[str, ...]:
    """The languages of a village's listeners (empty for an unknown village)."""
    village = session.get(Village, village_id)
    return () if village is None else tuple(village.languages)


def public_bulletins(
    session: Session,
    *,
    village_id: str | None = None,
    area_codes: set[str] | None = None,
    for_cap: bool = False,
    limit: int = 50,
) -> list[PublicBulletin]:
    """Public bulletins, newest approval first, for one village or any village among `area_codes`."""
    candidates = list(
        session.scalars(
            select(Bulletin)
            .where(Bulletin.status.in_(PUBLIC_STATUSES), Bulletin.approved_at.is_not(None))
            .order_by(Bulletin.approved_at.desc(), Bulletin.id.desc())
            .limit(_SCAN)
        )
    )
    drills = drill_bulletin_ids(session)
    ids = [b.id for b in candidates if b.id not in drills]
    played = set(session.scalars(select(Play.bulletin_id).where(Play.bulletin_id.in_(ids)).distinct()))
    system = system_user_ids(session)
    villages = {v.id: v for v in session.scalars(select(Village))}
    device_village: dict[str, str] = {d: v for d, v in session.execute(select(Device.id, Device.village_id))}
    found: list[PublicBulletin] = []
    for bulletin in candidates:
        if bulletin.id in drills or (bulletin.priority != "emergency" and bulletin.id not in played):
            continue
        if for_cap and bulletin.author_id in system:
            continue
        reached = _villages_of(bulletin, villages, device_village)
        if village_id is not None and village_id not in reached:
            continue
        if area_codes is not None and not any(villages[v].area_code in area_codes for v in reached):
            continue
        found.append(_public(session, bulletin, [villages[v] for v in sorted(reached)]))
        if len(found) >= min(max(limit, 1), MAX_ITEMS):
            break
    return found


def public_asset(session: Session, sha256: str) -> PublicAudio | None:
    """The audio file `sha256` when it belongs to a public bulletin (else None: it is not served)."""
    owners = list(
        session.scalars(select(BulletinAudio.bulletin_id).where(BulletinAudio.asset_sha256 == sha256))
    )
    if not owners:
        return None
    drills = drill_bulletin_ids(session)
    for bulletin_id in owners:
        bulletin = session.get(Bulletin, bulletin_id)
        if bulletin is None or bulletin.status not in PUBLIC_STATUSES or bulletin_id in drills:
            continue
        played = session.scalar(select(Play.id).where(Play.bulletin_id == bulletin_id).limit(1)) is not None
        if bulletin.priority == "emergency" or played:
            asset = session.get(Asset, sha256)
            if asset is not None:
                return PublicAudio("", asset.sha256, asset.bytes, asset.duration_ms, asset.mime)
    return None


def _villages_of(
    bulletin: Bulletin, villages: dict[str, Village], device_village: dict[str, str]
) -> set[str]:
    targets = bulletin.targets
    if targets.get("all"):
        return {v.id for v in villages.values() if bulletin.commune_id in (None, v.commune_id)}
    if "villages" in targets:
        return {v for v in targets["villages"] if v in villages}
    return {device_village[d] for d in targets.get("clusters", []) if d in device_village}


def _public(session: Session, bulletin: Bulletin, villages: list[Village]) -> PublicBulletin:
    rows = session.execute(
        select(BulletinAudio.language, Asset)
        .join(Asset, Asset.sha256 == BulletinAudio.asset_sha256)
        .where(BulletinAudio.bulletin_id == bulletin.id)
        .order_by(BulletinAudio.position)
    )
    audio = tuple(PublicAudio(lang, a.sha256, a.bytes, a.duration_ms, a.mime) for lang, a in rows)
    return PublicBulletin(
        id=bulletin.id, title=bulletin.title, text=bulletin.text, priority=bulletin.priority,
        approved_at=bulletin.approved_at or bulletin.updated_at, expires_at=bulletin.expires_at,
        villages=tuple(PublicVillage(v.id, v.name, v.area_code) for v in villages), audio=audio,
    )  # fmt: skip
