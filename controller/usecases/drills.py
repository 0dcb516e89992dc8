"""Drill use case: start a drill (a short announced test, played at once) and remember it.

A drill is an emergency-priority bulletin with a fixed Vietnamese text, written through the one-step
emergency of controller.usecases.bulletins (so the same checks and audit hold), then recorded as a drill so
its report can be read from the as-run log (controller.services.drills). Started by a person holding
`drill.run`, or by a CAP alert whose status is Test or Exercise.
"""

from collections.abc import Callable
from datetime import datetime

from controller import services
from controller.db import Database
from controller.services.drills import DRILL_TEXT, DRILL_TITLE, record_drill
from controller.services.views import UserView
from controller.usecases.bulletins import BulletinUseCases


class DrillUseCases:
    """Starting drills."""

    def __init__(self, db: Database, clock: Callable[[], datetime], bulletins: BulletinUseCases) -> None:
        self._db = db
        self._clock = clock
        self._bulletins = bulletins

    def start(
        self, actor: UserView, *, targets: object, origin: str = "manual", note: str = ""
    ) -> tuple[int, int]:
        """Play the drill on `targets` now; returns (drill id, bulletin id).

        `note` is added to the title (e.g. the CAP alert's headline) so operators can tell drills apart.
        """
        services.require(actor, "drill.run")
        title = f"{DRILL_TITLE}: {note}"[:200] if note else DRILL_TITLE
        view = self._bulletins.broadcast_emergency(actor, title=title, text=DRILL_TEXT, targets=targets)
        with self._db.session() as session:
            drill_id = record_drill(
                session, self._clock(), bulletin_id=view.id, origin=origin, started_by=actor.username
            )
        return drill_id, view.id
