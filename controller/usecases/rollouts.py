"""Over-the-air updates as committed changes: start a rollout of a published version, cancel one.

Owns checking that the version is in the controller's signed apt repository (the SHA-256 the `update`
command carries is the one its index lists, and the pool's file matches it) before storing the rollout.
The leader's job (controller.rollout_job) sends the commands; nothing here speaks MQTT or HTTP.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from controller import apt_repo
from controller.db import Database
from controller.services import rollouts
from controller.services.errors import ValidationFailed
from controller.services.rollouts import RolloutView

PACKAGE = "loaxa-agent"
DEFAULT_DEADLINE = timedelta(minutes=20)  # above the Pi helper's 10-minute wait for the health marker


class PackageNotPublished(ValidationFailed):
    """The version is not in the controller's apt repository (or its file does not match the index)."""

    code = "package_not_published"


class RolloutUseCases:
    """Start and cancel rollouts; each call is one transaction."""

    def __init__(self, db: Database, clock: Callable[[], datetime], repository: Path) -> None:
        self._db = db
        self._clock = clock
        self._repository = repository

    def published_sha256(self, version: str) -> str:
        """The SHA-256 of loaxa-agent `version` in the repository, or PackageNotPublished."""
        try:
            return apt_repo.published_sha256(self._repository, PACKAGE, version)
        except apt_repo.RepositoryError as exc:
            raise PackageNotPublished(str(exc)) from exc

    def start(
        self,
        version: str,
        *,
        canary: Sequence[str] = (),
        share_percent: int = 10,
        deadline: timedelta = DEFAULT_DEADLINE,
        actor: str | None = None,
    ) -> RolloutView:
        """Store a running rollout of a published `version` (canary devices first, then a share, then all)."""
        sha256 = self.published_sha256(version)
        with self._db.session() as session:
            return rollouts.start_rollout(
                session, self._clock(), version=version, sha256=sha256, canary=canary,
                share_percent=share_percent, deadline=deadline, actor=actor,
            )  # fmt: skip

    def cancel(self, rollout_id: int, *, actor: str | None = None) -> RolloutView:
        """Stop a running rollout (updated devices keep the new version) or acknowledge a failed one."""
        with self._db.session() as session:
            return rollouts.cancel_rollout(session, rollout_id, self._clock(), actor=actor)
