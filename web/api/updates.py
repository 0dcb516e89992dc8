"""`/api/v1/updates`: over-the-air updates of the agents — versions across the fleet, rollouts in waves.

Owns the HTTP side: shapes, role checks (reading needs `device.read`, starting and cancelling
`device.manage`, i.e. an admin). Starting names a version already published in the controller's apt
repository; the rules are controller.usecases.rollouts and controller.services.rollouts, and the leader's
job sends the commands.
"""

from datetime import timedelta
from typing import Any

from apiflask import APIBlueprint
from pydantic import BaseModel, ConfigDict, Field

from controller import apt_repo
from controller.services import rollouts
from controller.usecases.rollouts import RolloutUseCases
from web.api.security import permit, token_auth
from web.context import web_context

bp = APIBlueprint("updates", __name__, tag="updates")

_VERSION = r"^[0-9][0-9A-Za-z.+~:-]{0,63}$"  # a Debian version, as the `update` command accepts it


class UpdateIn(BaseModel):
    """Start a rollout of a published loaxa-agent version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(pattern=_VERSION, description="A loaxa-agent version in the apt repository.")
    canary: list[str] = Field(
        default_factory=list, max_length=100, description="Device ids of the first wave (the canary)."
    )
    share_percent: int = Field(10, ge=1, le=100, strict=True, description="Share of the rest in wave two.")
    deadline_min: int = Field(20, ge=1, le=24 * 60, strict=True, description="Minutes a wave may take.")


class RolloutOut(BaseModel):
    """A rollout with each wave's progress and each device's outcome."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: int
    version: str
    sha256: str
    state: str
    wave: int
    waves: list[dict[str, Any]]
    outcomes: dict[str, str]


class UpdatesOut(BaseModel):
    """The fleet's agent versions and the latest rollouts (newest first)."""

    model_config = ConfigDict(frozen=True)

    versions: dict[str, int]
    rollouts: list[RolloutOut]


def _use_cases() -> RolloutUseCases:
    context = web_context()
    return RolloutUseCases(context.db, context.clock, apt_repo.repository_dir(context.settings))


@bp.get("/updates")
@bp.auth_required(token_auth)
@bp.output(UpdatesOut)
@bp.doc(summary="Agent versions across the fleet and the latest rollouts with their waves")
def overview() -> UpdatesOut:
    """Devices per agent version, and the five newest rollouts."""
    permit("device.read")
    with web_context().db.session() as session:
        versions = rollouts.version_counts(session)
        recent = rollouts.recent_rollouts(session, limit=5)
    return UpdatesOut(versions=versions, rollouts=[RolloutOut(**view.to_json()) for view in recent])


@bp.post("/updates")
@bp.auth_required(token_auth)
@bp.input(UpdateIn, arg_name="body")
@bp.output(RolloutOut, status_code=201)
@bp.doc(
    summary="Start a rollout (admin): canary, then a share, then all",
    responses={409: "A rollout is running", 422: "Version not published or bad waves"},
)
def start(body: UpdateIn) -> RolloutOut:
    """Store a running rollout of `version`; the scheduler leader sends the signed commands wave by wave."""
    user = permit("device.manage")
    view = _use_cases().start(
        body.version,
        canary=body.canary,
        share_percent=body.share_percent,
        deadline=timedelta(minutes=body.deadline_min),
        actor=user.username,
    )
    return RolloutOut(**view.to_json())


@bp.post("/updates/<int:rollout_id>/cancel")
@bp.auth_required(token_auth)
@bp.output(RolloutOut)
@bp.doc(summary="Cancel a running rollout or acknowledge a failed one (admin)", responses={404: "No such"})
def cancel(rollout_id: int) -> RolloutOut:
    """No further wave starts; devices already updated keep the new version."""
    user = permit("device.manage")
    return RolloutOut(**_use_cases().cancel(rollout_id, actor=user.username).to_json())
