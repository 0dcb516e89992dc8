"""`/api/v1/cap/...` and `/api/v1/drills`: CAP alert sources (admin), the push endpoint, drills.

Owns the HTTP side of CAP in (DESIGN §8, §12, docs/cap.md): creating and reading sources (their counters
and newest refusals), polling one now, the push endpoint that takes a CAP document with the source's own
bearer token, and starting and reading drills. Checks are controller.cap.intake's; changes go through
controller.usecases. Must not parse CAP itself.
"""

from dataclasses import asdict
from typing import Any

from apiflask import APIBlueprint
from flask import request, url_for
from pydantic import BaseModel, ConfigDict, Field

from controller.services import cap_sources, drills
from controller.services.cap_sources import SourceView
from web.api.errors import ApiError
from web.api.guards import accepts_xml
from web.api.security import permit, token_auth
from web.context import web_context

bp = APIBlueprint("cap", __name__, tag="cap")


class SourceIn(BaseModel):
    """A CAP source: a URL to poll (optional: without, it takes pushes only), who may send, the policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, description="e.g. 'Đài KTTV tỉnh Yên Bái'")
    url: str | None = Field(None, max_length=2000, description="polled: one CAP alert, or an Atom/RSS feed")
    senders: list[str] = Field(min_length=1, max_length=50, description="CAP <sender> values allowed")
    certificate: str | None = Field(
        None, max_length=20000, description="PEM certificate; set: every alert must be signed with its key"
    )
    policy: dict[str, Any] | None = Field(None, description="rules (docs/cap.md); default: see docs")


class SourceCreated(BaseModel):
    """The new source, its push URL and token (the token is shown this once)."""

    id: int
    push_url: str
    push_token: str


class SourceOut(BaseModel):
    """A source's settings, counters (accepted, refused, per reason), newest refusals and alerts."""

    id: int
    name: str
    url: str | None
    senders: list[str]
    signed: bool
    policy: dict[str, Any]
    counters: dict[str, int]
    last_errors: list[dict[str, str]]
    last_polled_at: str | None
    recent_alerts: list[dict[str, Any]]


class SourceList(BaseModel):
    """Every source."""

    items: list[SourceOut]


class Outcomes(BaseModel):
    """What became of each document a push or poll brought."""

    items: list[dict[str, Any]]


class DrillIn(BaseModel):
    """Where to run a drill ({"all": true}, {"villages": [ids]} or {"clusters": [ids]}) and how loud."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: dict[str, Any] = Field(default_factory=lambda: {"all": True})
    # strict: JSON `true` or "60" is not a volume.
    volume: int = Field(
        drills.DEFAULT_DRILL_VOLUME, ge=0, le=100, strict=True,
        description=f"0–100, the same on every cluster (default {drills.DEFAULT_DRILL_VOLUME})",
    )  # fmt: skip


class DrillOut(BaseModel):
    """A drill's report: acknowledged clusters with their delay, missing ones with their last contact."""

    id: int
    bulletin_id: int
    status: str
    origin: str
    started_by: str
    started_at: str
    volume: int | None
    acknowledged: list[dict[str, Any]]
    missing: list[dict[str, Any]]


def _source_out(view: SourceView) -> SourceOut:
    with web_context().db.session() as session:
        alerts = cap_sources.recent_alerts(session, view.id)
    return SourceOut(
        id=view.id, name=view.name, url=view.url, senders=list(view.senders), signed=view.signed,
        policy=view.policy.model_dump(mode="json"), counters=view.counters,
        last_errors=list(view.last_errors),
        last_polled_at=view.last_polled_at.isoformat() if view.last_polled_at else None,
        recent_alerts=[
            {"sender": a.sender, "identifier": a.identifier, "status": a.status, "msg_type": a.msg_type,
             "action": a.action, "bulletin_id": a.bulletin_id}
            for a in alerts
        ],
    )  # fmt: skip


@bp.post("/cap/sources")
@bp.auth_required(token_auth)
@bp.input(SourceIn, arg_name="body")
@bp.output(SourceCreated, status_code=201)
@bp.doc(summary="Add a CAP alert source (admin)", responses={409: "A source with this name exists"})
def create_source(body: SourceIn) -> SourceCreated:
    """Create a source; the answer carries its push URL and token once."""
    user = permit("cap.manage")
    context = web_context()
    with context.db.session() as session:
        view, token = cap_sources.create_source(
            session, context.clock(), name=body.name, url=body.url, senders=body.senders,
            certificate=body.certificate, policy=body.policy, actor=user.username,
        )  # fmt: skip
    push_url = url_for("cap.push", source_id=view.id, _external=True)
    return SourceCreated(id=view.id, push_url=push_url, push_token=token)


@bp.get("/cap/sources")
@bp.auth_required(token_auth)
@bp.output(SourceList)
@bp.doc(summary="List CAP sources with their counters (admin)")
def list_sources() -> SourceList:
    """Every source."""
    permit("cap.manage")
    with web_context().db.session() as session:
        views = cap_sources.list_sources(session)
    return SourceList(items=[_source_out(v) for v in views])


@bp.get("/cap/sources/<int:source_id>")
@bp.auth_required(token_auth)
@bp.output(SourceOut)
@bp.doc(summary="A CAP source's page: counters, newest refusals, newest alerts (admin)")
def get_source(source_id: int) -> SourceOut:
    """One source."""
    permit("cap.manage")
    with web_context().db.session() as session:
        view = cap_sources.get_source(session, source_id)
    return _source_out(view)


@bp.post("/cap/sources/<int:source_id>/poll")
@bp.auth_required(token_auth)
@bp.output(Outcomes)
@bp.doc(summary="Read a polled source's URL now (admin)", responses={409: "The source has no URL"})
def poll_now(source_id: int) -> Outcomes:
    """Poll the source once, as the runtime's job does."""
    permit("cap.manage")
    context = web_context()
    with context.db.session() as session:
        view = cap_sources.get_source(session, source_id)
    if view.url is None:
        raise ApiError(
            409, f"Nguồn CAP {source_id} không có địa chỉ để đọc: nguồn này tự gửi cảnh báo tới.", "no_url"
        )
    outcomes = context.cap_intake.poll(source_id, view.url)
    return Outcomes(items=[asdict(o) for o in outcomes])


@bp.post("/cap/sources/<int:source_id>/push")
@accepts_xml
@bp.doc(
    summary="Push one CAP 1.2 alert (Authorization: Bearer <the source's push token>)",
    responses={202: "Taken in, a duplicate, or ignored", 401: "Wrong push token", 422: "Refused"},
)
def push(source_id: int) -> tuple[dict[str, Any], int]:
    """Take in a CAP document; a refusal answers 422 with the reason as its code (nothing plays)."""
    context = web_context()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    with context.db.session() as session:
        known = cap_sources.source_for_push_token(session, source_id, token) if scheme == "Bearer" else None
    if known is None:
        raise ApiError(
            401, "Thiếu hoặc sai mã đẩy: gửi kèm 'Authorization: Bearer <push_token>' của nguồn này.",
            headers={"WWW-Authenticate": 'Bearer realm="loaxa-cap"'},
        )  # fmt: skip
    outcome = context.cap_intake.receive(source_id, request.get_data(cache=False), where="push")
    if outcome.status == "refused":
        raise ApiError(
            422, f"Cảnh báo CAP bị từ chối, không phát: {outcome.message}", outcome.reason or "refused"
        )
    return asdict(outcome), 202


@bp.post("/drills")
@bp.auth_required(token_auth)
@bp.input(DrillIn, arg_name="body")
@bp.output(DrillOut, status_code=201)
@bp.doc(summary="Start a drill: a short announced test plays at once on the targets")
def start_drill(body: DrillIn) -> DrillOut:
    """Start a drill and answer with its (fresh) report."""
    user = permit("drill.run")
    context = web_context()
    drill_id, _ = context.drills.start(user, targets=body.targets, volume=body.volume)
    return _drill_out(drill_id)


@bp.get("/drills/<int:drill_id>")
@bp.auth_required(token_auth)
@bp.output(DrillOut)
@bp.doc(summary="A drill's report")
def get_drill(drill_id: int) -> DrillOut:
    """Acknowledged clusters with their delay; missing ones with their last contact."""
    permit("plays.read")
    return _drill_out(drill_id)


def _drill_out(drill_id: int) -> DrillOut:
    with web_context().db.session() as session:
        report = drills.drill_report(session, drill_id)
    return DrillOut(
        id=report.id, bulletin_id=report.bulletin_id, status=report.status, origin=report.origin,
        started_by=report.started_by, started_at=report.started_at.isoformat(), volume=report.volume,
        acknowledged=[
            {"device": a.device_id, "started_at": a.started_at.isoformat(),
             "delay_s": round(a.delay.total_seconds(), 1),
             "finished_at": a.finished_at.isoformat() if a.finished_at else None, "problem": a.problem}
            for a in report.acknowledged
        ],
        missing=[
            {"device": m.device_id, "last_seen": m.last_seen.isoformat() if m.last_seen else None,
             "online": m.online}
            for m in report.missing
        ],
    )  # fmt: skip


def document_push(spec: dict[Any, Any] | str) -> dict[Any, Any] | str:
    """OpenAPI: the push endpoint takes a CAP 1.2 XML document and the source's token, not a user's."""
    if isinstance(spec, str):
        return spec
    operation = spec["paths"]["/api/v1/cap/sources/{source_id}/push"]["post"]
    operation["requestBody"] = {
        "required": True,
        "description": "One CAP 1.2 <alert> (OASIS), signed where the source signs.",
        "content": {"application/cap+xml": {"schema": {"type": "string", "format": "binary"}}},
    }
    operation["parameters"] = [
        *operation.get("parameters", []),
        {
            "name": "Authorization",
            "in": "header",
            "required": True,
            "description": "Bearer <push_token> of this source (from POST /api/v1/cap/sources)",
            "schema": {"type": "string"},
        },
    ]
    return spec
