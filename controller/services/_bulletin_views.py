"""Turning bulletin rows into read models (with audio versions and deliveries), shared by the services.

Owns reading bulletins for display; must not change anything. A list of bulletins costs three queries
whatever its length (audio, deliveries, user names), not three per bulletin.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Asset, Bulletin, BulletinAudio, Delivery, User
from controller.services.errors import NotFound
from controller.services.views import AudioView, BulletinView, DeliveryView
from protocol import Priority


def load_bulletin(session: Session, bulletin_id: int) -> Bulletin:
    """The bulletin row, or NotFound."""
    bulletin = session.get(Bulletin, bulletin_id)
    if bulletin is None:
        raise NotFound(f"bulletin {bulletin_id} does not exist; check the id in the bulletin list")
    return bulletin


def view_bulletin(session: Session, bulletin: Bulletin) -> BulletinView:
    """The read model of a bulletin row, with its audio versions and deliveries."""
    return view_bulletins(session, [bulletin])[0]


def view_bulletins(session: Session, bulletins: Sequence[Bulletin]) -> list[BulletinView]:
    """The read models of several bulletin rows, in the same order."""
    ids = [b.id for b in bulletins]
    audio: dict[int, list[AudioView]] = defaultdict(list)
    for version, asset in session.execute(
        select(BulletinAudio, Asset)
        .join(Asset, Asset.sha256 == BulletinAudio.asset_sha256)
        .where(BulletinAudio.bulletin_id.in_(ids))
        .order_by(BulletinAudio.bulletin_id, BulletinAudio.position)
    ):
        audio[version.bulletin_id].append(
            AudioView(
                language=version.language,
                kind=version.kind,
                sha256=version.asset_sha256,
                duration_ms=asset.duration_ms,
                engine=asset.engine,
                position=version.position,
            )
        )
    deliveries: dict[int, list[DeliveryView]] = defaultdict(list)
    for d in session.scalars(
        select(Delivery)
        .where(Delivery.bulletin_id.in_(ids))
        .order_by(Delivery.bulletin_id, Delivery.device_id)
    ):
        deliveries[d.bulletin_id].append(
            DeliveryView(
                device_id=d.device_id,
                state=d.state,
                item_id=d.item_id,
                planned_start=d.planned_start,
                played_at=d.played_at,
                reason=d.reason,
                updated_at=d.updated_at,
            )
        )
    user_ids = {b.author_id for b in bulletins} | {
        b.approver_id for b in bulletins if b.approver_id is not None
    }
    names = {i: n for i, n in session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))}
    return [
        BulletinView(
            id=b.id,
            title=b.title,
            text=b.text,
            priority=cast(Priority, b.priority),  # the table's CHECK allows only these
            status=b.status,
            targets=b.targets,
            schedule=b.schedule,
            commune_id=b.commune_id,
            author=names.get(b.author_id, ""),
            approver=None if b.approver_id is None else names.get(b.approver_id),
            reject_reason=b.reject_reason,
            created_at=b.created_at,
            updated_at=b.updated_at,
            submitted_at=b.submitted_at,
            approved_at=b.approved_at,
            rejected_at=b.rejected_at,
            cancelled_at=b.cancelled_at,
            ended_at=b.ended_at,
            expires_at=b.expires_at,
            audio=tuple(audio[b.id]),
            deliveries=tuple(deliveries[b.id]),
            source=b.source,
        )
        for b in bulletins
    ]
