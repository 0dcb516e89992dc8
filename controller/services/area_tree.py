"""Reading the area tree: an area's subtree, and the clusters (devices) and bulletins that lie under it.

Owns walking the tree; must not change it (controller.services.areas does).
"""

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Area, Bulletin, Commune, Device, Village

# Bulletins that will still play: retiring an area they target would strand them.
LIVE_BULLETIN_STATUSES = ("pending", "approved")


def subtree(session: Session, code: str) -> set[str]:
    """The codes of `code` and of every area below it (retired ones included)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for child, parent in session.execute(select(Area.code, Area.parent_code)):
        children[parent].append(child)
    found, stack = {code}, [code]
    while stack:
        for child in children[stack.pop()]:
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def villages_in(session: Session, codes: Iterable[str]) -> set[str]:
    """The ids of the villages whose areas are among `codes`."""
    return set(session.scalars(select(Village.id).where(Village.area_code.in_(list(codes)))))


def communes_in(session: Session, codes: Iterable[str]) -> set[str]:
    """The ids of the communes whose areas are among `codes`."""
    return set(session.scalars(select(Commune.id).where(Commune.area_code.in_(list(codes)))))


def clusters_under(session: Session, code: str) -> set[str]:
    """The ids of every device (loudspeaker cluster) standing in a village under `code`."""
    villages = villages_in(session, subtree(session, code))
    return set(session.scalars(select(Device.id).where(Device.village_id.in_(villages))))


def bulletins_targeting(session: Session, codes: set[str]) -> list[int]:
    """Pending or approved bulletins aimed at a village, cluster, area or whole commune among `codes`.

    A bulletin sent to all of its sender's area counts when that area is among `codes`.
    """
    villages, communes = villages_in(session, codes), communes_in(session, codes)
    clusters = set(session.scalars(select(Device.id).where(Device.village_id.in_(villages))))
    query = select(Bulletin.id, Bulletin.commune_id, Bulletin.sender_area, Bulletin.targets).where(
        Bulletin.status.in_(LIVE_BULLETIN_STATUSES)
    )
    hits = []
    for bulletin_id, commune_id, sender_area, targets in session.execute(query.order_by(Bulletin.id)):
        if (
            (targets.get("all") and (commune_id in communes or sender_area in codes))
            or villages & set(targets.get("villages") or ())
            or clusters & set(targets.get("clusters") or ())
            or codes & set(targets.get("areas") or ())
        ):
            hits.append(bulletin_id)
    return hits
