"""Where a CAP alert lands: the villages under administrative unit codes, and the villages' coordinates.

Owns the two reads controller.cap.intake needs from the area tree to match an alert's geocodes and
polygons (controller.cap.geo does the matching). Must not change anything.
"""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Area, Device, Village
from controller.services.area_tree import subtree, villages_in


def villages_under(session: Session, codes: Iterable[str]) -> set[str]:
    """The villages (ids) in the areas with these codes and below; unknown codes add nothing."""
    found: set[str] = set()
    for code in codes:
        if session.get(Area, code) is not None:
            found |= villages_in(session, subtree(session, code))
    return found


def village_points(session: Session) -> dict[str, tuple[float, float]]:
    """(lat, lon) of every village whose area has coordinates."""
    query = (
        select(Village.id, Area.lat, Area.lon)
        .join(Area, Area.code == Village.area_code)
        .where(Area.lat.is_not(None), Area.lon.is_not(None), Area.retired.is_(False))
    )
    return {
        village: (lat, lon)
        for village, lat, lon in session.execute(query)
        if lat is not None and lon is not None
    }


def villages_with_devices(session: Session, villages: Iterable[str]) -> list[str]:
    """The given villages that have at least one loudspeaker cluster, sorted."""
    query = select(Device.village_id).where(Device.village_id.in_(list(villages))).distinct()
    return sorted(set(session.scalars(query)))


def communes_of(session: Session, villages: Iterable[str]) -> set[str]:
    """The communes (ids) the given villages belong to."""
    return set(session.scalars(select(Village.commune_id).where(Village.id.in_(list(villages)))))
