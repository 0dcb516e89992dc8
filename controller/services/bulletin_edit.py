"""Editing a bulletin's title, text, targets or schedule, also after approval (DESIGN §4, issue 4).

An edit of an approved bulletin sends it back to pending: it must be approved again before anything
plays, its speech is rendered again when the text changed, its deliveries start afresh, and its schedule's
`revision` goes up so the planner gives its items new ids (an agent never replays an item id it closed).
Owns that rule; must not plan, render or publish (the caller reacts to the new status).
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from controller.db.models import BulletinAudio
from controller.planning import Schedule, ScheduleOptions
from controller.services._bulletin_input import (
    MAX_TEXT,
    MAX_TITLE,
    check_schedule,
    check_targets,
    clean_text,
)
from controller.services._bulletin_views import load_bulletin, view_bulletin
from controller.services.audit import write_audit
from controller.services.bulletins import take_step
from controller.services.deliveries import forget_deliveries
from controller.services.errors import InvalidTransition
from controller.services.relay_slots import check_relay_edit
from controller.services.users import require
from controller.services.views import BulletinView, UserView

log = logging.getLogger(__name__)

EDITABLE = frozenset({"draft", "pending", "approved"})


def edit_bulletin(
    session: Session,
    bulletin_id: int,
    actor: UserView,
    now: datetime,
    *,
    changes: dict[str, Any],
    windows: Schedule | None = None,
) -> BulletinView:
    """Apply `changes` (title, text, targets, schedule); an approved bulletin goes back to pending."""
    bulletin = load_bulletin(session, bulletin_id)
    require(actor, "bulletin.submit", owner_id=bulletin.author_id)  # editing is submitting anew
    if bulletin.status not in EDITABLE:
        raise InvalidTransition(
            f"bulletin {bulletin_id} is {bulletin.status}; "
            "only a draft, pending or approved bulletin can be edited"
        )
    changed: dict[str, Any] = {}
    if changes.get("title") is not None:
        changed["title"] = clean_text(changes["title"], "the title", MAX_TITLE)
    if changes.get("text") is not None:
        changed["text"] = clean_text(changes["text"], "the text", MAX_TEXT)
    if changes.get("targets") is not None:
        changed["targets"] = check_targets(session, changes["targets"], bulletin.commune_id)
    if changes.get("schedule") is not None:
        changed["schedule"] = check_schedule(changes["schedule"], windows).to_json()
    changed = {k: v for k, v in changed.items() if v != _without_revision(getattr(bulletin, k))}
    if not changed:
        return view_bulletin(session, bulletin)
    if bulletin.source is not None:
        check_relay_edit(session, bulletin, changed, windows, now)
    revision = ScheduleOptions.from_json(bulletin.schedule).revision
    for key, value in changed.items():
        setattr(bulletin, key, value)
    if "schedule" in changed:
        bulletin.expires_at = ScheduleOptions.from_json(changed["schedule"]).expires_at
    if "text" in changed:  # the speech is rendered again from the new text
        session.execute(
            delete(BulletinAudio).where(BulletinAudio.bulletin_id == bulletin.id, BulletinAudio.kind == "tts")
        )
    write_audit(
        session, now, actor=actor.username, action="bulletin.edit", entity="bulletin",
        entity_id=bulletin.id, detail={"changed": sorted(changed)},
    )  # fmt: skip
    if bulletin.status == "approved":
        take_step(session, bulletin, "reopen", now, actor=actor.username, detail={"changed": sorted(changed)})
        bulletin.approved_at = None
        forget_deliveries(session, bulletin.id)
        revision += 1
    if bulletin.status == "pending":
        bulletin.approver_id = None  # a first approval under the two-person rule was for the old content
    bulletin.schedule = {**bulletin.schedule, "revision": revision} if revision else bulletin.schedule
    bulletin.updated_at = now
    session.flush()
    log.info("bulletin %s edited by %s: %s", bulletin.id, actor.username, ", ".join(sorted(changed)))
    return view_bulletin(session, bulletin)


def _without_revision(value: Any) -> Any:
    return {k: v for k, v in value.items() if k != "revision"} if isinstance(value, dict) else value
