"""The communes' inboxes (DESIGN §11, TT39): bulletins sent from a province or a district, per commune.

On approval, a bulletin from above gets one entry per commune it reaches:
- normal (thông thường): `waiting` until the commune operator schedules it (`scheduled`) or declines it
  (`declined`, with a reason that goes back to the sender); only then does it play there;
- priority (ưu tiên): `scheduled` at once, ahead of the commune's own items in the next window; when the
  commune has its own priority items on air the entry is marked `clash` and the operator picks the order;
- emergency (khẩn cấp): `scheduled` at once; it plays at once like any emergency.
The sender reads, per commune, what became of it: waiting, scheduled, declined (reason), played, or missed
and why (from the devices' deliveries). Owns inbox rows; must not plan, publish or commit.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import INBOX_ORDERS, Area, Bulletin, Commune, Delivery, InboxEntry, User
from controller.i18n import Message
from controller.services._bulletin_input import MAX_REASON, clean_text
from controller.services.audit import write_audit
from controller.services.errors import (
    InvalidTransition,
    NotFound,
    ReasonRequired,
    ValidationFailed,
)
from controller.services.scope import (
    LEVEL_DEPTH,
    Scope,
    bulletin_scope,
    communes_reached,
    devices_for,
    from_above,
    scope_of,
)
from controller.services.users import require
from controller.services.views import UserView

log = logging.getLogger(__name__)

_LIVE: Final = ("pending", "approved")
_OVER: Final = ("done", "expired", "cancelled")
_MISSED: Final = frozenset({"skipped", "failed"})


@dataclass(frozen=True)
class InboxItem:
    """One bulletin from above as a commune's operator sees it."""

    id: int
    bulletin_id: int
    commune_id: str
    title: str
    text: str
    priority: str
    sender_area: str | None
    author: str
    state: str
    reason: str | None
    clash: bool
    play_order: str
    bulletin_status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class CommuneOutcome:
    """What became of a bulletin from above in one commune, as its sender sees it.

    `state`: waiting, scheduled, declined, played (every cluster played it) or missed (with `reason`).
    """

    commune_id: str
    name: str
    state: str
    reason: str | None
    clusters: int
    played: int


@dataclass(frozen=True)
class Gate:
    """What the planner may do with a bulletin from above: where it may play, where it yields, its level."""

    communes: frozenset[str]  # communes whose entry is scheduled
    yields_in: frozenset[str]  # communes whose operator put their own priority items first
    level: int  # depth of the sending area: 0 province, 1 district


def deliver(session: Session, bulletin: Bulletin, now: datetime) -> list[str]:
    """Open one inbox entry per commune an approved bulletin from above reaches; returns those communes."""
    if not from_above(session, bulletin.sender_area):
        return []
    sender = bulletin_scope(session, bulletin.sender_area, bulletin.commune_id)
    communes = sorted(communes_reached(session, devices_for(session, bulletin.targets, sender)))
    known = {
        e.commune_id: e
        for e in session.scalars(select(InboxEntry).where(InboxEntry.bulletin_id == bulletin.id))
    }
    state = "waiting" if bulletin.priority == "normal" else "scheduled"
    clashing = _own_priority(session, communes) if bulletin.priority == "priority" else set()
    for commune_id in communes:
        entry = known.get(commune_id)
        if entry is None:
            entry = InboxEntry(bulletin_id=bulletin.id, commune_id=commune_id, created_at=now)
            session.add(entry)
        entry.state, entry.reason, entry.clash = state, None, commune_id in clashing
        entry.play_order, entry.decided_by, entry.decided_at, entry.updated_at = (
            "above_first",
            None,
            None,
            now,
        )
    session.flush()
    log.info(
        "bulletin %s from %s: %s commune inbox(es), %s",
        bulletin.id,
        bulletin.sender_area,
        len(communes),
        state,
    )
    return communes


def _own_priority(session: Session, communes: Iterable[str]) -> set[str]:
    """The communes that have priority bulletins of their own pending or approved."""
    return set(
        session.scalars(
            select(Bulletin.commune_id).where(
                Bulletin.commune_id.in_(list(communes)),
                Bulletin.priority == "priority",
                Bulletin.status.in_(_LIVE),
            )
        )
    )


def list_inbox(
    session: Session, scope: Scope, *, state: str | None = None, limit: int = 200
) -> list[InboxItem]:
    """The inbox entries of the communes under `scope`, waiting ones and clashes first, newest first."""
    query = select(InboxEntry, Bulletin, User.username).join(Bulletin, Bulletin.id == InboxEntry.bulletin_id)
    query = query.join(User, User.id == Bulletin.author_id)
    if scope.communes is not None:
        query = query.where(InboxEntry.commune_id.in_(sorted(scope.communes)))
    if state is not None:
        query = query.where(InboxEntry.state == state)
    rows = session.execute(
        query.order_by(InboxEntry.created_at.desc(), InboxEntry.id.desc()).limit(limit)
    ).all()
    items = [_item(entry, bulletin, author) for entry, bulletin, author in rows]
    return sorted(items, key=lambda i: (not (i.state == "waiting" or i.clash), -i.id))


def _item(entry: InboxEntry, bulletin: Bulletin, author: str) -> InboxItem:
    return InboxItem(
        id=entry.id, bulletin_id=bulletin.id, commune_id=entry.commune_id, title=bulletin.title,
        text=bulletin.text, priority=bulletin.priority, sender_area=bulletin.sender_area, author=author,
        state=entry.state, reason=entry.reason, clash=entry.clash, play_order=entry.play_order,
        bulletin_status=bulletin.status, created_at=entry.created_at, decided_by=entry.decided_by,
        decided_at=entry.decided_at,
    )  # fmt: skip


def _entry(session: Session, entry_id: int, actor: UserView) -> tuple[InboxEntry, Bulletin]:
    require(actor, "inbox.decide")
    entry = session.get(InboxEntry, entry_id)
    if entry is None or not scope_of(session, actor).covers(entry.commune_id):
        raise NotFound(f"Không có mục #{entry_id} trong hộp thư của xã bạn; tải lại trang hộp thư.")
    bulletin = session.get_one(Bulletin, entry.bulletin_id)  # the foreign key holds it
    if bulletin.status != "approved":
        raise InvalidTransition(
            f"Bản tin #{bulletin.id} đã {bulletin.status}: cấp trên đã kết thúc hoặc huỷ, "
            "không cần xếp lịch nữa."
        )
    return entry, bulletin


def schedule(session: Session, entry_id: int, actor: UserView, now: datetime) -> InboxItem:
    """The commune operator takes a waiting (or declined) bulletin from above into their programme."""
    entry, bulletin = _entry(session, entry_id, actor)
    if entry.state == "scheduled":
        raise InvalidTransition(f"Bản tin #{bulletin.id} đã được xếp lịch ở xã {entry.commune_id}.")
    return _decide(session, entry, bulletin, actor, now, state="scheduled", reason=None)


def decline(session: Session, entry_id: int, actor: UserView, now: datetime, reason: object) -> InboxItem:
    """The commune operator declines a normal bulletin from above, with a reason the sender reads."""
    entry, bulletin = _entry(session, entry_id, actor)
    if bulletin.priority != "normal":
        raise InvalidTransition(
            f"Bản tin #{bulletin.id} là tin {bulletin.priority} của cấp trên: xã không được từ chối; "
            "với tin ưu tiên, hãy chọn thứ tự phát."
        )
    if entry.state == "declined":
        raise InvalidTransition(f"Bản tin #{bulletin.id} đã bị từ chối ở xã {entry.commune_id}.")
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired("Hãy ghi lý do từ chối: lý do được gửi lại cho cấp trên đã gửi bản tin.")
    clean_reason = clean_text(reason, Message("The reason"), MAX_REASON)
    return _decide(session, entry, bulletin, actor, now, state="declined", reason=clean_reason)


def set_order(session: Session, entry_id: int, actor: UserView, now: datetime, order: str) -> InboxItem:
    """The commune operator settles a clash: the bulletin from above first, or the commune's own first."""
    entry, bulletin = _entry(session, entry_id, actor)
    if order not in INBOX_ORDERS:
        raise ValidationFailed(f"Thứ tự {order!r:.40} không hợp lệ: chọn above_first hoặc commune_first.")
    if bulletin.priority != "priority":
        raise InvalidTransition(f"Bản tin #{bulletin.id} không phải tin ưu tiên: không có thứ tự để chọn.")
    entry.play_order, entry.clash = order, False
    return _decide(session, entry, bulletin, actor, now, state=entry.state, reason=entry.reason)


def _decide(
    session: Session, entry: InboxEntry, bulletin: Bulletin, actor: UserView, now: datetime, *, state: str,
    reason: str | None,
) -> InboxItem:  # fmt: skip
    before = entry.state
    entry.state, entry.reason = state, reason
    entry.decided_by, entry.decided_at, entry.updated_at = actor.username, now, now
    session.flush()
    write_audit(
        session, now, actor=actor.username, action=f"inbox.{state}", entity="bulletin", entity_id=bulletin.id,
        detail={"commune": entry.commune_id, "from": before, "reason": reason, "order": entry.play_order},
    )  # fmt: skip
    author = session.scalar(select(User.username).where(User.id == bulletin.author_id)) or ""
    return _item(entry, bulletin, author)


def gates(session: Session, bulletin_ids: Iterable[int]) -> dict[int, Gate]:
    """For each bulletin from above among `bulletin_ids`: where it may play and where it yields."""
    rows = session.execute(
        select(InboxEntry.bulletin_id, InboxEntry.commune_id, InboxEntry.state, InboxEntry.play_order).where(
            InboxEntry.bulletin_id.in_(list(bulletin_ids))
        )
    ).all()
    senders = _pairs(
        session.execute(
            select(Bulletin.id, Bulletin.sender_area).where(Bulletin.id.in_({r[0] for r in rows}))
        )
    )
    levels = _pairs(
        session.execute(select(Area.code, Area.level).where(Area.code.in_(set(senders.values()))))
    )
    grouped: dict[int, tuple[set[str], set[str]]] = {}
    for bulletin_id, commune_id, state, order in rows:
        allowed, yields = grouped.setdefault(bulletin_id, (set(), set()))
        if state == "scheduled":
            allowed.add(commune_id)
            if order == "commune_first":
                yields.add(commune_id)
    local = LEVEL_DEPTH["commune"]
    depth = {b: LEVEL_DEPTH.get(levels.get(area or "", ""), local) for b, area in senders.items()}
    return {
        bulletin_id: Gate(frozenset(allowed), frozenset(yields), depth[bulletin_id])
        for bulletin_id, (allowed, yields) in grouped.items()
    }


def outcomes(session: Session, bulletin_id: int) -> list[CommuneOutcome]:
    """Per commune a bulletin from above reached: waiting, scheduled, declined, played, or missed and why."""
    bulletin = session.get(Bulletin, bulletin_id)
    if bulletin is None:
        raise NotFound(f"Không có bản tin #{bulletin_id}.")
    entries = session.scalars(
        select(InboxEntry).where(InboxEntry.bulletin_id == bulletin_id).order_by(InboxEntry.commune_id)
    ).all()
    sender = bulletin_scope(session, bulletin.sender_area, bulletin.commune_id)
    by_commune = communes_reached(session, devices_for(session, bulletin.targets, sender))
    states = {
        device: (state, reason)
        for device, state, reason in session.execute(
            select(Delivery.device_id, Delivery.state, Delivery.reason).where(
                Delivery.bulletin_id == bulletin_id
            )
        )
    }
    names = _pairs(
        session.execute(
            select(Commune.id, Commune.name).where(Commune.id.in_([e.commune_id for e in entries]))
        )
    )
    out = []
    for entry in entries:
        devices = by_commune.get(entry.commune_id, [])
        played = sum(1 for d in devices if states.get(d, ("", None))[0] == "played")
        state, reason = _outcome(entry, bulletin, devices, states, played)
        out.append(
            CommuneOutcome(
                entry.commune_id,
                names.get(entry.commune_id, entry.commune_id),
                state,
                reason,
                len(devices),
                played,
            )
        )
    return out


def _outcome(
    entry: InboxEntry,
    bulletin: Bulletin,
    devices: list[str],
    states: dict[str, tuple[str, str | None]],
    played: int,
) -> tuple[str, str | None]:
    if entry.state == "declined":
        return "declined", entry.reason
    if entry.state == "waiting":
        if bulletin.status in _OVER:
            return "missed", "xã chưa xếp lịch trước khi bản tin kết thúc"
        return "waiting", None
    if devices and played == len(devices):
        return "played", None
    missed = sorted(
        {states[d][1] or states[d][0] for d in devices if states.get(d, ("", None))[0] in _MISSED}
    )
    if missed or bulletin.status in _OVER:
        return "missed", ", ".join(missed) or "không cụm loa nào báo đã phát trước khi bản tin kết thúc"
    return "scheduled", None


def _pairs(rows: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """A dict of two-column rows (a Result has keys(), so dict() would read it as a mapping)."""
    return {key: value for key, value in rows}
