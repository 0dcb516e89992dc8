"""`/api/v1/inbox`: bulletins from above in the communes' inboxes, and what became of them per commune.

Owns the HTTP side of the inbox (DESIGN §11): a commune operator lists, schedules, declines (with a
reason) or orders a clash; the sender reads `GET /bulletins/{id}/communes`. The rules are
controller.services.inbox; every decision goes through controller.usecases.inbox.
"""

from datetime import datetime
from typing import Literal

from apiflask import APIBlueprint
from pydantic import BaseModel, ConfigDict, Field

from controller import services
from controller.services import inbox
from controller.services.inbox import InboxItem
from web.api.bulletins import visible_bulletin
from web.api.security import permit, token_auth
from web.context import web_context

bp = APIBlueprint("inbox", __name__, tag="inbox")
_REFUSED = {
    404: "No such entry in the user's communes",
    409: "The bulletin is over, or the step does not apply",
    422: "No reason given (reason_required), or a bad order",
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InboxQuery(_In):
    """Which entries to list."""

    state: Literal["waiting", "scheduled", "declined"] | None = None


class DeclineIn(_In):
    """Why the commune does not broadcast it (sent back to the sender)."""

    reason: str = Field("", max_length=1000)


class OrderIn(_In):
    """Which goes first in the window: the bulletin from above, or the commune's own priority items."""

    order: Literal["above_first", "commune_first"]


class InboxOut(BaseModel):
    """One inbox entry."""

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


class InboxList(BaseModel):
    """Inbox entries: waiting ones and clashes first."""

    items: list[InboxOut]


class CommuneOut(BaseModel):
    """What became of a bulletin from above in one commune."""

    commune_id: str
    name: str
    state: Literal["waiting", "scheduled", "declined", "played", "missed"]
    reason: str | None
    clusters: int
    played: int


class CommuneList(BaseModel):
    """Per commune, by id."""

    items: list[CommuneOut]


def _out(item: InboxItem) -> InboxOut:
    return InboxOut.model_validate(item, from_attributes=True)


@bp.get("/inbox")
@bp.auth_required(token_auth)
@bp.input(InboxQuery, location="query", arg_name="query")
@bp.output(InboxList)
@bp.doc(summary="Bulletins from above in the inboxes of the user's communes")
def list_all(query: InboxQuery) -> InboxList:
    """The entries of the communes under the user's area."""
    user = permit("bulletin.read")
    with web_context().db.session() as session:
        items = inbox.list_inbox(session, services.scope_of(session, user), state=query.state)
    return InboxList(items=[_out(i) for i in items])


@bp.post("/inbox/<int:entry_id>/schedule")
@bp.auth_required(token_auth)
@bp.output(InboxOut)
@bp.doc(summary="Schedule a bulletin from above in the commune (operator)", responses=_REFUSED)
def schedule(entry_id: int) -> InboxOut:
    """It plays in the commune's next windows, by its own schedule."""
    user = permit("inbox.decide")
    return _out(web_context().inbox.schedule(user, entry_id))


@bp.post("/inbox/<int:entry_id>/decline")
@bp.auth_required(token_auth)
@bp.input(DeclineIn, arg_name="body")
@bp.output(InboxOut)
@bp.doc(summary="Decline a normal bulletin from above, with a reason (operator)", responses=_REFUSED)
def decline(entry_id: int, body: DeclineIn) -> InboxOut:
    """Refused with reason_required when the reason is empty."""
    user = permit("inbox.decide")
    return _out(web_context().inbox.decline(user, entry_id, body.reason))


@bp.post("/inbox/<int:entry_id>/order")
@bp.auth_required(token_auth)
@bp.input(OrderIn, arg_name="body")
@bp.output(InboxOut)
@bp.doc(summary="Settle a clash of priority items: which goes first (operator)", responses=_REFUSED)
def order(entry_id: int, body: OrderIn) -> InboxOut:
    """above_first or commune_first; the next planning run follows it."""
    user = permit("inbox.decide")
    return _out(web_context().inbox.set_order(user, entry_id, body.order))


@bp.get("/bulletins/<int:bulletin_id>/communes")
@bp.auth_required(token_auth)
@bp.output(CommuneList)
@bp.doc(summary="Per commune: waiting, scheduled, declined (reason), played, or missed and why")
def communes(bulletin_id: int) -> CommuneList:
    """What became of a bulletin from above in each commune it reached."""
    user = permit("bulletin.read")
    with web_context().db.session() as session:
        visible_bulletin(session, user, bulletin_id)
        outcomes = inbox.outcomes(session, bulletin_id)
    return CommuneList(items=[CommuneOut.model_validate(o, from_attributes=True) for o in outcomes])
