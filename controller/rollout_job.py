"""The leader's rollout job: one look at the running over-the-air update, and the commands it calls for.

Owns one tick: read the running rollout and the fleet's health, let controller.rollout's `advance` decide,
store the outcome, then send the signed `update` to the current wave's devices that have not had it and
`test_tone` to those that run the new version but have not played one, and note what the broker took.
A wave that failed stops the rollout; the alert rules tell the admins (controller.alerts.rules). It must
not decide waves itself (controller.rollout) nor hold SQL (controller.services.rollouts). The runtime calls
`tick` from a job that runs on the scheduler leader only.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from controller.db import Database
from controller.rollout import advance
from controller.services import rollouts
from controller.services.rollouts import RolloutView
from protocol import Command

log = logging.getLogger(__name__)

SendCommand = Callable[[str, Command], bool]
TONE_S = 3  # a short tone: enough for the agent to prove its player works


class RolloutJob:
    """Drives the running rollout one step per call."""

    def __init__(self, db: Database, send: SendCommand, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._send = send
        self._clock = clock

    def tick(self) -> RolloutView | None:
        """Advance the running rollout, if any, and send what it needs; returns it as stored."""
        now = self._clock()
        with self._db.session() as session:
            running = rollouts.running_rollout(session)
            if running is None:
                return None
            fleet = rollouts.fleet_health(session)
            looked_at = rollouts.pure(running)
            step = advance(looked_at, fleet, now)
            saved = rollouts.save_step(
                session, running.id, looked_at=looked_at, step=step, fleet=fleet, now=now
            )
        if saved is None:
            return None
        if saved.state == "failed":
            failed = [device for device, outcome in saved.outcomes.items() if outcome == "failed"]
            log.error(
                "rollout %s of loaxa-agent %s stopped: wave %s not healthy in time on %s",
                saved.id, saved.version, saved.wave + 1, ", ".join(sorted(failed)),
            )  # fmt: skip
            return saved
        if saved.state == "done":
            log.info("rollout %s of loaxa-agent %s done on %s devices", saved.id, saved.version, len(fleet))
            return saved
        wave = saved.waves[saved.wave]
        update = Command(command="update", version=saved.version, sha256=saved.sha256)
        updated = [d for d in wave if saved.outcomes.get(d) == "waiting" and self._send(d, update)]
        tone = Command(command="test_tone", duration_s=TONE_S)
        toned = [d for d in step.send_tone if saved.outcomes.get(d) == "updated" and self._send(d, tone)]
        if updated or toned:
            with self._db.session() as session:
                rollouts.mark_sent(session, saved.id, updated, "sent", now)
                rollouts.mark_sent(session, saved.id, toned, "tone_sent", now)
                saved = rollouts.running_rollout(session) or saved
            log.info(
                "rollout %s, wave %s: update sent to %s device(s), test tone to %s",
                saved.id, saved.wave + 1, len(updated), len(toned),
            )  # fmt: skip
        return saved
