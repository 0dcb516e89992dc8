"""Drill use case: start a drill (a short announced test, played at once) and remember it.

A drill is an emergency-priority bulletin with a fixed Vietnamese text, written through the one-step
emergency of controller.usecases.bulletins (so the same checks and audit hold) and recorded as a drill, with
the volume every cluster plays it at, in that same transaction; its report is read from the as-run log
(controller.services.drills). Started by a person holding `drill.run`, or by a CAP alert whose status is
Test or Exercise (at the source policy's `drill_volume`).
"""

from datetime import datetime

from sqlalchemy.orm import Session

from controller import services
from controller.services.drills import DEFAULT_DRILL_VOLUME, DRILL_TEXT, DRILL_TITLE, record_drill
from controller.services.views import UserView
from controller.usecases.bulletins import BulletinUseCases


class DrillUseCases:
    """Starting drills."""

    def __init__(self, bulletins: BulletinUseCases) -> None:
        self._bulletins = bulletins

    def start(
        self,
        actor: UserView,
        *,
        targets: object,
        origin: str = "manual",
        note: str = "",
        volume: int = DEFAULT_DRILL_VOLUME,
    ) -> tuple[int, int]:
        """Play the drill on `targets` now, at `volume` (0–100) everywhere; returns (drill id, bulletin id).

        `note` is added to the title (e.g. the CAP alert's headline) so operators can tell drills apart.
        The drill is recorded in the emergency's own transaction, so its first dispatch carries the volume.
        """
        services.require(actor, "drill.run")
        title = f"{DRILL_TITLE}: {note}"[:200] if note else DRILL_TITLE
        recorded: list[int] = []

        def record(session: Session, now: datetime, bulletin_id: int) -> None:
            drill_id = record_drill(
                session, now, bulletin_id=bulletin_id, origin=origin, started_by=actor.username, volume=volume
            )
            recorded.append(drill_id)

        view = self._bulletins.broadcast_emergency(
            actor, title=title, text=DRILL_TEXT, targets=targets, along=record
        )
        return recorded[0], view.id
