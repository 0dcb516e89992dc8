"""Where each bulletin stands on each device: planned → delivered → played, or skipped / failed.

Owns deliveries rows and the rule for moving them: the newest event (highest seq) wins, and a delivery
that was played stays played. Must not read MQTT messages or plans itself (ingest and plans call in).
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from controller.db.models import Delivery


def find_delivery(
    session: Session, device_id: str, *, item_id: str | None, bulletin_id: int | None
) -> Delivery | None:
    """The delivery an event is about: by item id on the device, else by bulletin."""
    if item_id is not None:
        found = session.scalar(
            select(Delivery).where(Delivery.device_id == device_id, Delivery.item_id == item_id).limit(1)
        )
        if found is not None:
            return found
    if bulletin_id is not None:
        return session.scalar(
            select(Delivery).where(Delivery.device_id == device_id, Delivery.bulletin_id == bulletin_id)
        )
    return None


def plan_delivery(
    session: Session,
    now: datetime,
    *,
    bulletin_id: int,
    device_id: str,
    item_id: str,
    planned_start: datetime | None,
) -> Delivery:
    """Record that a bulletin is in a device's plan; a delivery already under way keeps its state."""
    delivery = session.scalar(
        select(Delivery).where(Delivery.bulletin_id == bulletin_id, Delivery.device_id == device_id)
    )
    if delivery is None:
        delivery = Delivery(bulletin_id=bulletin_id, device_id=device_id, state="planned", updated_at=now)
        session.add(delivery)
    if delivery.state in ("planned", "delivered"):
        delivery.item_id, delivery.planned_start, delivery.updated_at = item_id, planned_start, now
    return delivery


def plan_deliveries(
    session: Session, now: datetime, entries: Iterable[tuple[int, str, str, datetime | None]]
) -> None:
    """`plan_delivery` for many (bulletin, device, item, planned start) at once.

    One read, one insert and one update whatever their number (a province's emergency is thousands).
    """
    wanted = {(bulletin, device): (item, start) for bulletin, device, item, start in entries}
    if not wanted:
        return
    existing = {
        (bulletin, device): (delivery_id, state)
        for delivery_id, bulletin, device, state in session.execute(
            select(Delivery.id, Delivery.bulletin_id, Delivery.device_id, Delivery.state).where(
                Delivery.bulletin_id.in_({bulletin for bulletin, _ in wanted})
            )
        )
    }
    fresh = [
        {
            "bulletin_id": b,
            "device_id": d,
            "state": "planned",
            "item_id": i,
            "planned_start": p,
            "updated_at": now,
        }
        for (b, d), (i, p) in wanted.items()
        if (b, d) not in existing
    ]
    moved = [
        {"id": existing[key][0], "item_id": i, "planned_start": p, "updated_at": now}
        for key, (i, p) in wanted.items()
        if key in existing and existing[key][1] in ("planned", "delivered")
    ]
    if fresh:
        session.execute(insert(Delivery), fresh)
    if moved:
        session.execute(update(Delivery), moved)


def advance_delivery(
    session: Session,
    delivery: Delivery,
    now: datetime,
    *,
    state: str | None,
    seq: int,
    played_at: datetime | None = None,
    reason: str | None = None,
) -> bool:
    """Apply an event's outcome unless a newer event already did or the bulletin was played; True if applied.

    `state` None records only the reason (e.g. an interrupted play, which may be resumed).
    """
    if delivery.event_seq is not None and seq <= delivery.event_seq:
        return False
    if delivery.state == "played" and state != "played":
        return False
    if state is not None:
        delivery.state = state
    if played_at is not None:
        delivery.played_at = played_at
    delivery.reason = reason
    delivery.event_seq, delivery.updated_at = seq, now
    session.flush()
    return True


def unsend_deliveries(session: Session, pairs: Iterable[tuple[int, str]]) -> None:
    """Drop the still-planned deliveries of these (bulletin, device) pairs.

    What was to carry them to the device never reached the broker, so the next planning run sends again.
    """
    for bulletin_id, device_id in pairs:
        session.execute(
            delete(Delivery).where(
                Delivery.bulletin_id == bulletin_id,
                Delivery.device_id == device_id,
                Delivery.state == "planned",
            )
        )


def forget_deliveries(session: Session, bulletin_id: int) -> None:
    """Drop a bulletin's deliveries (it was edited after approval: it is delivered afresh)."""
    session.execute(delete(Delivery).where(Delivery.bulletin_id == bulletin_id))
