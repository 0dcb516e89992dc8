"""Inbox use cases: a commune operator schedules or declines a bulletin from above, or settles a clash.

Each runs the rules of controller.services.inbox in one transaction, commits, then announces the
bulletin so the planner places it (or takes it out) in that commune. Must not speak HTTP or SQL.
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from controller.db import Database
from controller.services import inbox
from controller.services.inbox import InboxItem
from controller.services.views import UserView
from controller.usecases._announce import Announcer


class InboxUseCases:
    """A commune's inbox as committed, announced decisions."""

    def __init__(self, db: Database, clock: Callable[[], datetime], announcer: Announcer) -> None:
        self._db = db
        self._clock = clock
        self._announce = announcer

    def schedule(self, actor: UserView, entry_id: int) -> InboxItem:
        """Take the bulletin into the commune's programme: it plays in the commune's next window."""
        return self._decide(lambda s, now: inbox.schedule(s, entry_id, actor, now))

    def decline(self, actor: UserView, entry_id: int, reason: object) -> InboxItem:
        """Decline a normal bulletin from above, with the reason its sender reads."""
        return self._decide(lambda s, now: inbox.decline(s, entry_id, actor, now, reason))

    def set_order(self, actor: UserView, entry_id: int, order: str) -> InboxItem:
        """Settle a clash: above_first or commune_first."""
        return self._decide(lambda s, now: inbox.set_order(s, entry_id, actor, now, order))

    def _decide(self, step: Callable[[Session, datetime], InboxItem]) -> InboxItem:
        with self._db.session() as session:
            item = step(session, self._clock())
        self._announce.bulletin(item.bulletin_id)
        return item
