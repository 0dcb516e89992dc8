"""`/api/v1/bulletins`: write, edit, submit, approve, reject and cancel bulletins, and fetch their audio.

Owns the HTTP side of bulletins: reading JSON or multipart bodies and role checks. Each change is a
controller use case (controller.usecases), which commits and announces it; the state machine and every rule
beyond the shape of a request live in controller.services.
"""

from typing import Any

from apiflask import APIBlueprint
from flask import Response, request

from controller import services
from controller.services.views import BulletinView
from controller.usecases import BulletinDraft
from controller.usecases.bulletins import RecordingsUnavailable
from web.api.errors import abort
from web.api.guards import accepts_uploads
from web.api.schemas import (
    BulletinEditIn,
    BulletinIn,
    BulletinList,
    BulletinOut,
    BulletinsQuery,
    ChangedOut,
    EmergencyIn,
    RejectIn,
    ResponsesDoc,
)
from web.api.security import permit, token_auth
from web.api.serialize import bulletin_out, send_asset
from web.api.uploads import read_bulletin_body
from web.context import web_context

bp = APIBlueprint("bulletins", __name__, tag="bulletins")

_AUDIO_RESPONSES: ResponsesDoc = {
    200: {"description": "MP3", "content": {"audio/mpeg": {}}},
    404: {"description": "No such bulletin, or no audio yet"},
}
_STEP_ERRORS = {403: "Role or authorship does not allow it", 404: "No such bulletin", 409: "Wrong status"}


def _changed(view: BulletinView) -> ChangedOut:
    """The answer to a committed change: the bulletin's id and new status."""
    return ChangedOut(id=view.id, status=view.status)


@bp.post("/bulletins")
@accepts_uploads
@bp.auth_required(token_auth)
@bp.output(ChangedOut, status_code=201)
@bp.doc(
    summary="Write a bulletin (draft): JSON text, or multipart with a recorded `audio` file",
    responses={415: "Neither JSON nor multipart", 422: "A field is not valid", 501: "Recordings not wired"},
)
def create() -> ChangedOut:
    """Create a draft; a multipart body also attaches its recording in `language`."""
    user = permit("bulletin.create")
    body, recording = read_bulletin_body()
    draft = BulletinDraft(
        title=body.title, text=body.text, priority=body.priority, targets=body.targets,
        schedule=body.schedule, source=body.source,
    )  # fmt: skip
    try:
        return _changed(web_context().bulletins.create(user, draft, recording=recording))
    except RecordingsUnavailable:
        abort(501, "recorded audio is not available on this controller yet; send the bulletin as JSON text")


@bp.post("/emergencies")
@bp.auth_required(token_auth)
@bp.input(EmergencyIn, arg_name="body")
@bp.output(ChangedOut, status_code=201)
@bp.doc(
    summary="Put an emergency on air at once: written, submitted and approved in one step",
    description=(
        "For holders of `emergency.broadcast` (approvers, admins). It plays at once on every target and is "
        "logged and audited as a one-person emergency; with LOAXA_EMERGENCY_TWO_PERSON=true it waits, "
        "pending, for a second approver (POST /bulletins/{id}/approve). The same rule as the UI's button."
    ),
    responses={403: "Role does not allow it", 422: "A field is not valid"},
)
def emergency(body: EmergencyIn) -> ChangedOut:
    """Write, submit and approve an emergency bulletin in one step (docs/security.md)."""
    user = permit("emergency.broadcast")
    view = web_context().bulletins.broadcast_emergency(
        user, title=body.title, text=body.text, targets=body.targets
    )
    return _changed(view)


@bp.patch("/bulletins/<int:bulletin_id>")
@bp.auth_required(token_auth)
@bp.input(BulletinEditIn, arg_name="body")
@bp.output(ChangedOut)
@bp.doc(
    summary="Edit title, text, targets or schedule; an approved bulletin goes back to pending",
    responses={**_STEP_ERRORS, 422: "A field is not valid"},
)
def edit(bulletin_id: int, body: BulletinEditIn) -> ChangedOut:
    """Change a draft, pending or approved bulletin (its author); approval is needed again."""
    user = permit("bulletin.submit")
    return _changed(web_context().bulletins.edit(user, bulletin_id, body.model_dump()))


@bp.get("/bulletins")
@bp.auth_required(token_auth)
@bp.input(BulletinsQuery, location="query", arg_name="query")
@bp.output(BulletinList)
@bp.doc(summary="List bulletins, newest first")
def list_all(query: BulletinsQuery) -> BulletinList:
    """Bulletins with their audio versions and deliveries, optionally of one status."""
    permit("bulletin.read")
    with web_context().db.session() as session:
        views = services.list_bulletins(session, status=query.status, limit=query.limit, offset=query.offset)
    return BulletinList(items=[bulletin_out(view) for view in views])


@bp.get("/bulletins/<int:bulletin_id>")
@bp.auth_required(token_auth)
@bp.output(BulletinOut)
@bp.doc(summary="One bulletin with audio and per-device deliveries", responses={404: "No such bulletin"})
def get_one(bulletin_id: int) -> BulletinOut:
    """Status, audio versions and per-device deliveries of one bulletin."""
    permit("bulletin.read")
    with web_context().db.session() as session:
        view = services.get_bulletin(session, bulletin_id)
    return bulletin_out(view)


@bp.post("/bulletins/<int:bulletin_id>/submit")
@bp.auth_required(token_auth)
@bp.output(ChangedOut)
@bp.doc(summary="Submit a draft for approval (its author)", responses=_STEP_ERRORS)
def submit(bulletin_id: int) -> ChangedOut:
    """Draft → pending."""
    user = permit("bulletin.submit")
    return _changed(web_context().bulletins.submit(user, bulletin_id))


@bp.post("/bulletins/<int:bulletin_id>/approve")
@bp.auth_required(token_auth)
@bp.output(ChangedOut)
@bp.doc(summary="Approve a pending bulletin (not its own author)", responses=_STEP_ERRORS)
def approve(bulletin_id: int) -> ChangedOut:
    """Pending → approved."""
    user = permit("bulletin.approve")
    return _changed(web_context().bulletins.approve(user, bulletin_id))


@bp.post("/bulletins/<int:bulletin_id>/reject")
@bp.auth_required(token_auth)
@bp.input(RejectIn, arg_name="body")
@bp.output(ChangedOut)
@bp.doc(summary="Reject a pending bulletin, saying why", responses=_STEP_ERRORS)
def reject(bulletin_id: int, body: RejectIn) -> ChangedOut:
    """Pending → rejected, with the reason its author will read."""
    user = permit("bulletin.reject")
    return _changed(web_context().bulletins.reject(user, bulletin_id, body.reason))


@bp.post("/bulletins/<int:bulletin_id>/cancel")
@bp.auth_required(token_auth)
@bp.output(ChangedOut)
@bp.doc(summary="Cancel a draft, pending or approved bulletin", responses=_STEP_ERRORS)
def cancel(bulletin_id: int) -> ChangedOut:
    """Draft, pending or approved → cancelled (operators: only their own)."""
    user = permit("bulletin.cancel")
    return _changed(web_context().bulletins.cancel(user, bulletin_id))


@bp.get("/bulletins/<int:bulletin_id>/audio")
@bp.auth_required(token_auth)
@bp.doc(
    summary="The bulletin's audio (MP3); `?language=` picks a version",
    responses=_AUDIO_RESPONSES,
)
def audio(bulletin_id: int) -> Response:
    """The MP3 played first (Vietnamese when present), or the version in `?language=`; supports Range."""
    permit("bulletin.read")
    with web_context().db.session() as session:
        view = services.get_bulletin(session, bulletin_id)
    language = request.args.get("language")
    versions = sorted((a for a in view.audio if language in (None, a.language)), key=lambda a: a.position)
    if not versions:
        have = ", ".join(a.language for a in view.audio) or "none yet"
        wanted = f" in language {language!r}" if language else ""
        abort(
            404, f"bulletin {view.id} has no audio{wanted} (versions: {have}); speech is rendered on approval"
        )
    return send_asset(versions[0].sha256)


def document_upload(spec: dict[Any, Any] | str) -> dict[Any, Any] | str:
    """OpenAPI: POST /bulletins takes JSON (BulletinIn) or multipart with an `audio` file part."""
    if isinstance(spec, str):
        return spec
    operation = spec["paths"]["/api/v1/bulletins"]["post"]
    multipart = {
        "type": "object",
        "required": ["title", "text", "targets", "language", "audio"],
        "properties": {
            "title": {"type": "string"},
            "text": {"type": "string", "description": "what the recording says (shown to approvers)"},
            "priority": {"type": "string", "enum": ["normal", "priority", "emergency"]},
            "targets": {"type": "string", "description": "targets as a JSON string"},
            "schedule": {"type": "string", "description": "schedule as a JSON string (optional)"},
            "language": {
                "type": "string",
                "description": "language of the recording, e.g. vi, thai, mong, dao",
            },
            "audio": {"type": "string", "format": "binary", "description": "any format ffmpeg reads"},
        },
    }
    spec.setdefault("components", {}).setdefault("schemas", {})["BulletinIn"] = BulletinIn.model_json_schema()
    operation["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/BulletinIn"}},
            "multipart/form-data": {"schema": multipart},
        },
    }
    return spec
