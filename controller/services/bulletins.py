"""Bulletins (DESIGN §4): creating, reading, resolving targets, and the state machine.

    draft ──submit──▶ pending ──approve──▶ approved ──finish──▶ done
                         └──────reject──▶ rejected      └──expire──▶ expired
    draft, pending, approved ──cancel──▶ cancelled
    approved ──reopen (an edit, controller.services.bulletin_edit)──▶ pending

An emergency under the two-person rule needs two different approvers: the first approval is recorded
(approver_id, audit `bulletin.approve_first`) and the bulletin stays pending until the second.

Nothing unapproved is ever played. Owns bulletin rows and their audit entries; must not plan, render or
publish (callers react to the new status).
"""

import logging
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin
from controller.i18n import Joined, Message
from controller.i18n.vocabulary import describe_action, describe_status
from controller.planning import Schedule
from controller.services import inbox
from controller.services._bulletin_input import (
    LABELS,
    MAX_REASON,
    MAX_TEXT,
    MAX_TITLE,
    check_priority,
    check_schedule,
    check_targets,
    clean_text,
)
from controller.services._bulletin_views import load_bulletin, view_bulletin, view_bulletins
from controller.services.audit import write_audit
from controller.services.errors import Forbidden, InvalidTransition, OutOfScope, ValidationFailed
from controller.services.scope import (
    EVERYTHING,
    Scope,
    bulletin_scope,
    devices_for,
    scope_of,
    user_area,
    visible_bulletin_ids,
)
from controller.services.users import require
from controller.services.views import BulletinView, UserView

log = logging.getLogger(__name__)

MAX_LIST = 500

# step → (statuses it may start from, status it leads to)
TRANSITIONS: Final[dict[str, tuple[frozenset[str], str]]] = {
    "submit": (frozenset({"draft"}), "pending"),
    "approve": (frozenset({"pending"}), "approved"),
    "reject": (frozenset({"pending"}), "rejected"),
    "cancel": (frozenset({"draft", "pending", "approved"}), "cancelled"),
    "reopen": (frozenset({"approved"}), "pending"),
    "finish": (frozenset({"approved"}), "done"),
    "expire": (frozenset({"approved"}), "expired"),
}


def take_step(
    session: Session,
    bulletin: Bulletin,
    step: str,
    now: datetime,
    *,
    actor: str | None,
    detail: dict[str, object] | None = None,
) -> None:
    """Move `bulletin` through `step` or raise InvalidTransition; audit the change."""
    sources, target = TRANSITIONS[step]
    if bulletin.status not in sources:
        raise InvalidTransition(
            Message(
                "Bulletin #{id} is {status}, so this step cannot be done now ({step}: only when it is "
                "{allowed}). Reload the page to see its state.",
                id=bulletin.id,
                status=describe_status(bulletin.status),
                step=describe_action(f"bulletin.{step}"),
                allowed=Joined([describe_status(code) for code in sorted(sources)], " / "),
            )
        )
    before = bulletin.status
    bulletin.status = target
    bulletin.updated_at = now
    write_audit(
        session,
        now,
        actor=actor,
        action=f"bulletin.{step}",
        entity="bulletin",
        entity_id=bulletin.id,
        detail={"from": before, "to": target, **(detail or {})},
    )
    log.info("bulletin %s: %s → %s by %s", bulletin.id, before, target, actor or "system")


def submit(
    session: Session, bulletin_id: int, actor: UserView, now: datetime, *, permission: str = "bulletin.submit"
) -> BulletinView:
    """Send a draft for approval; its targets must reach at least one device.

    `permission` is what the actor must hold: `emergency.broadcast` for the one-step emergency.
    """
    bulletin = load_bulletin(session, bulletin_id)
    require(actor, permission, owner_id=bulletin.author_id)
    if bulletin.status == "draft" and not target_devices(session, bulletin):
        raise ValidationFailed(
            Message(
                "Bulletin #{id} is meant for places with no loudspeaker cluster. "
                "Choose villages or clusters that have loudspeakers.",
                id=bulletin_id,
            )
        )
    take_step(session, bulletin, "submit", now, actor=actor.username)
    bulletin.submitted_at = now
    return view_bulletin(session, bulletin)


def approve(
    session: Session,
    bulletin_id: int,
    actor: UserView,
    now: datetime,
    *,
    allow_self_approval: bool = False,
    two_person_emergency: bool = False,
) -> BulletinView:
    """Approve a pending bulletin (not by its author unless allowed); an emergency may need two approvers."""
    bulletin = load_bulletin(session, bulletin_id)
    require(actor, "bulletin.approve")
    _check_level(session, bulletin, actor)
    if bulletin.author_id == actor.id and not allow_self_approval:
        raise Forbidden(
            Message(
                "You wrote bulletin #{id}, so you cannot approve it too. Ask another approver.",
                id=bulletin_id,
            )
        )
    if two_person_emergency and bulletin.priority == "emergency" and bulletin.status == "pending":
        if bulletin.approver_id is None:
            bulletin.approver_id, bulletin.updated_at = actor.id, now
            write_audit(
                session, now, actor=actor.username, action="bulletin.approve_first",
                entity="bulletin", entity_id=bulletin.id, detail={"needs": "a second approver"},
            )  # fmt: skip
            log.info("bulletin %s: first approval by %s; waiting for a second", bulletin.id, actor.username)
            return view_bulletin(session, bulletin)
        if bulletin.approver_id == actor.id:
            raise Forbidden(
                Message(
                    "You already approved emergency bulletin #{id}. Two different people must approve it: "
                    "ask a second approver.",
                    id=bulletin_id,
                )
            )
    take_step(session, bulletin, "approve", now, actor=actor.username)
    bulletin.approver_id, bulletin.approved_at = actor.id, now
    inbox.deliver(session, bulletin, now)
    return view_bulletin(session, bulletin)


def _check_level(session: Session, bulletin: Bulletin, actor: UserView) -> None:
    """Approval happens at the level that sends (DESIGN §11): an approver approves only their area's."""
    area = user_area(session, actor)
    if area is None or bulletin.sender_area is None or bulletin.sender_area == area:
        return
    raise OutOfScope(
        f"Bản tin #{bulletin.id} được gửi từ địa bàn {bulletin.sender_area}, không phải địa bàn {area} "
        f"của bạn: chỉ lãnh đạo cấp gửi mới duyệt được. Hãy báo lãnh đạo địa bàn {bulletin.sender_area}."
    )


def reject(session: Session, bulletin_id: int, actor: UserView, now: datetime, reason: str) -> BulletinView:
    """Reject a pending bulletin, saying why (the reason is required)."""
    bulletin = load_bulletin(session, bulletin_id)
    require(actor, "bulletin.reject")
    _check_level(session, bulletin, actor)
    clean_reason = clean_text(reason, LABELS["reject_reason"], MAX_REASON)
    take_step(session, bulletin, "reject", now, actor=actor.username, detail={"reason": clean_reason})
    bulletin.approver_id, bulletin.rejected_at, bulletin.reject_reason = actor.id, now, clean_reason
    return view_bulletin(session, bulletin)


def cancel(
    session: Session, bulletin_id: int, actor: UserView, now: datetime, reason: str | None = None
) -> BulletinView:
    """Cancel a draft, pending or approved bulletin (operators: only their own)."""
    bulletin = load_bulletin(session, bulletin_id)
    require(actor, "bulletin.cancel", owner_id=bulletin.author_id)
    detail: dict[str, object] = (
        {} if reason is None else {"reason": clean_text(reason, LABELS["reason"], MAX_REASON)}
    )
    take_step(session, bulletin, "cancel", now, actor=actor.username, detail=detail)
    bulletin.cancelled_at = now
    return view_bulletin(session, bulletin)


def finish(session: Session, bulletin_id: int, now: datetime) -> BulletinView:
    """Mark an approved bulletin done (the system does this when its deliveries are over)."""
    bulletin = load_bulletin(session, bulletin_id)
    take_step(session, bulletin, "finish", now, actor=None)
    bulletin.ended_at = now
    return view_bulletin(session, bulletin)


def expire_bulletins(session: Session, now: datetime) -> list[int]:
    """Expire every approved bulletin whose expires_at has passed; returns their ids."""
    due = session.scalars(
        select(Bulletin)
        .where(Bulletin.status == "approved", Bulletin.expires_at.is_not(None), Bulletin.expires_at <= now)
        .order_by(Bulletin.id)
    ).all()
    for bulletin in due:
        take_step(session, bulletin, "expire", now, actor=None)
        bulletin.ended_at = now
    return [b.id for b in due]


def create_bulletin(
    session: Session,
    actor: UserView,
    now: datetime,
    *,
    title: str,
    text: str,
    priority: str = "normal",
    targets: object,
    schedule: object = None,
    expires_at: datetime | None = None,
    windows: Schedule | None = None,
    permission: str = "bulletin.create",
    source: dict[str, Any] | None = None,
) -> BulletinView:
    """Create a draft bulletin after checking every field (schedule options against `windows` if given).

    `permission` is what the actor must hold: `emergency.broadcast` for the one-step emergency. `source`
    is a relay slot's, already checked (controller.services.relay_slots creates those).
    """
    require(actor, permission)
    clean_title = clean_text(title, LABELS["title"], MAX_TITLE)
    clean_body = clean_text(text, LABELS["text"], MAX_TEXT)
    clean_schedule = check_schedule(schedule, windows)
    expires_at = expires_at or clean_schedule.expires_at
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(Message("The end time has already passed. Choose a later end time, or none."))
    scope = scope_of(session, actor)
    bulletin = Bulletin(
        commune_id=actor.commune_id,
        sender_area=scope.area,
        title=clean_title,
        text=clean_body,
        priority=check_priority(priority),
        status="draft",
        targets=check_targets(session, targets, scope),
        schedule=clean_schedule.to_json(),
        author_id=actor.id,
        created_at=now,
        updated_at=now,
        expires_at=expires_at,
        source=source,
    )
    session.add(bulletin)
    session.flush()
    write_audit(
        session,
        now,
        actor=actor.username,
        action="bulletin.create",
        entity="bulletin",
        entity_id=bulletin.id,
        detail={
            "title": clean_title,
            "priority": bulletin.priority,
            "targets": bulletin.targets,
            **({"source": source} if source else {}),
        },
    )
    log.info("bulletin %s created by %s", bulletin.id, actor.username)
    return view_bulletin(session, bulletin)


def get_bulletin(session: Session, bulletin_id: int) -> BulletinView:
    """One bulletin with its audio versions and deliveries."""
    return view_bulletin(session, load_bulletin(session, bulletin_id))


def list_bulletins(
    session: Session,
    *,
    status: str | None = None,
    commune_id: str | None = None,
    scope: Scope = EVERYTHING,
    limit: int = 100,
    offset: int = 0,
) -> list[BulletinView]:
    """Bulletins, newest first, optionally by status and commune; only those `scope` may see."""
    query = select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
    visible = visible_bulletin_ids(session, scope)
    if visible is not None:
        query = query.where(Bulletin.id.in_(visible))
    if status is not None:
        query = query.where(Bulletin.status == status)
    if commune_id is not None:
        query = query.where(Bulletin.commune_id == commune_id)
    query = query.limit(min(max(limit, 1), MAX_LIST)).offset(max(offset, 0))
    return view_bulletins(session, list(session.scalars(query)))


def count_bulletins(
    session: Session, *, status: str, commune_id: str | None = None, scope: Scope = EVERYTHING
) -> int:
    """How many bulletins have this status (in this commune, among those `scope` may see).

    The navigation's pending count.
    """
    query = select(func.count()).select_from(Bulletin).where(Bulletin.status == status)
    visible = visible_bulletin_ids(session, scope)
    if visible is not None:
        query = query.where(Bulletin.id.in_(visible))
    if commune_id is not None:
        query = query.where(Bulletin.commune_id == commune_id)
    return int(session.scalar(query) or 0)


def target_devices(session: Session, bulletin: Bulletin | BulletinView | int) -> list[str]:
    """The ids of the devices a bulletin's targets reach, sorted."""
    if isinstance(bulletin, int):
        bulletin = load_bulletin(session, bulletin)
    sender = bulletin_scope(session, bulletin.sender_area, bulletin.commune_id)
    return devices_for(session, bulletin.targets, sender)
