"""`/api/v1/bulletins`: write, edit, submit, approve, reject and cancel bulletins, and fetch their audio.

Owns the HTTP side of bulletins: reading JSON or multipart bodies, role checks, and calling the runtime's
`on_bulletin_changed` after each committed change. The state machine and every rule beyond the shape of a
request live in controller.services.
"""

from typing import Any

from apiflask import APIBlueprint
from flask import Response, request

from controller import services
from controller.planning import Schedule, load_schedule
from controller.services.bulletin_edit import edit_bulletin
from controller.services.views import BulletinView
from web.api.errors import abort
from web.api.guards import accepts_uploads
from web.api.schemas import (
    BulletinEditIn,
    BulletinIn,
    BulletinList,
    BulletinOut,
    BulletinsQuery,
    ChangedOut,
    RejectIn,
    ResponsesDoc,
)
from web.api.security import permit, token_auth
from web.api.serialize import bulletin_out, send_asset
from web.api.uploads import Recording, read_bulletin_body
from web.context import notify, web_context

bp = APIBlueprint("bulletins", __name__, tag="bulletins")

_AUDIO_RESPONSES: ResponsesDoc = {
    200: {"description": "MP3", "content": {"audio/mpeg": {}}},
    404: {"description": "No such bulletin, or no audio yet"},
}
_STEP_ERRORS = {403: "Role or authorship does not allow it", 404: "No such bulletin", 409: "Wrong status"}


def _changed(view: BulletinView) -> ChangedOut:
    """Tell the runtime (after the commit) and answer with the new status."""
    notify("on_bulletin_changed", web_context().on_bulletin_changed, view.id)
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
    context = web_context()
    sha256 = _store(recording) if recording is not None else None
    with context.db.session() as session:
        now = context.clock()
        view = services.create_bulletin(
            session,
            user,
            now,
            title=body.title,
            text=body.text,
            priority=body.priority,
            targets=body.targets,
            schedule=body.schedule,
            windows=_windows(),
        )
        if recording is not None and sha256 is not None:
            view = services.attach_audio(
                session,
                view.id,
                now,
                language=recording.language,
                kind="recorded",
                asset_sha256=sha256,
                actor=user,
            )
    return _changed(view)


def _windows() -> Schedule:
    """The commune's window file, to check window names and start times against."""
    return load_schedule(web_context().settings.schedule)


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
    context = web_context()
    with context.db.session() as session:
        view = edit_bulletin(
            session, bulletin_id, user, context.clock(), changes=body.model_dump(), windows=_windows()
        )
    return _changed(view)


def _store(recording: Recording) -> str:
    store_recording = web_context().store_recording
    if store_recording is None:
        abort(501, "recorded audio is not available on this controller yet; send the bulletin as JSON text")
    return store_recording(recording.data, recording.language)


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
    context = web_context()
    with context.db.session() as session:
        view = services.submit(session, bulletin_id, user, context.clock())
    return _changed(view)


@bp.post("/bulletins/<int:bulletin_id>/approve")
@bp.auth_required(token_auth)
@bp.output(ChangedOut)
@bp.doc(summary="Approve a pending bulletin (not its own author)", responses=_STEP_ERRORS)
def approve(bulletin_id: int) -> ChangedOut:
    """Pending → approved."""
    user = permit("bulletin.approve")
    context = web_context()
    with context.db.session() as session:
        view = services.approve(
            session,
            bulletin_id,
            user,
            context.clock(),
            two_person_emergency=context.settings.emergency_two_person,
        )
    return _changed(view)


@bp.post("/bulletins/<int:bulletin_id>/reject")
@bp.auth_required(token_auth)
@bp.input(RejectIn, arg_name="body")
@bp.output(ChangedOut)
@bp.doc(summary="Reject a pending bulletin, saying why", responses=_STEP_ERRORS)
def reject(bulletin_id: int, body: RejectIn) -> ChangedOut:
    """Pending → rejected, with the reason its author will read."""
    user = permit("bulletin.reject")
    context = web_context()
    with context.db.session() as session:
        view = services.reject(session, bulletin_id, user, context.clock(), body.reason)
    return _changed(view)


@bp.post("/bulletins/<int:bulletin_id>/cancel")
@bp.auth_required(token_auth)
@bp.output(ChangedOut)
@bp.doc(summary="Cancel a draft, pending or approved bulletin", responses=_STEP_ERRORS)
def cancel(bulletin_id: int) -> ChangedOut:
    """Draft, pending or approved → cancelled (operators: only their own)."""
    user = permit("bulletin.cancel")
    context = web_context()
    with context.db.session() as session:
        view = services.cancel(session, bulletin_id, user, context.clock())
    return _changed(view)


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
