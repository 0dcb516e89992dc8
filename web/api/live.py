"""`/api/v1/live`: going live (issue 13, item 3), ending, the browser's audio chunks, the archive.

Owns the HTTP side only; the rules are controller.usecases.live's, the processes controller.live's.
"""

from apiflask import APIBlueprint
from flask import request

from controller.live import ChunkRefused, LiveUnavailable
from controller.usecases.live import LiveUseCases, LiveView
from web.api.assets import signed_asset_url
from web.api.errors import abort
from web.api.guards import accepts_uploads
from web.api.schemas_live import ChunkOut, LiveIn, LiveList, LiveOut
from web.api.security import permit, token_auth
from web.context import web_context

bp = APIBlueprint("live", __name__, tag="live")
_REFUSED = {
    403: "The user may not go live (permission `live`)",
    404: "No such live session",
    409: "Someone is on air already (live_busy), or the session is not in that state",
    503: "No streaming server takes live audio (mode off, or the external Icecast refuses the source login)",
}


def _live() -> LiveUseCases:
    live = web_context().live
    if live is None:
        abort(
            503,
            "Máy chủ chưa bật phát trực tiếp (cần LOAXA_STREAM_MODE=managed hoặc external).",
            "live_unavailable",
        )
    return live


def _out(view: LiveView, ingest_url: str | None = None) -> LiveOut:
    recording = None if view.recording_sha256 is None else signed_asset_url(view.recording_sha256)
    return LiveOut(
        id=view.id, user=view.user, title=view.title, targets=view.targets, devices=list(view.devices),
        state=view.state, created_at=view.created_at, started_at=view.started_at, ended_at=view.ended_at,
        end_reason=view.end_reason, recording_url=recording, ingest_url=ingest_url,
    )  # fmt: skip


@bp.post("/live")
@bp.auth_required(token_auth)
@bp.input(LiveIn, arg_name="body")
@bp.output(LiveOut, status_code=201)
@bp.doc(summary="Go live: open a session and get its ingest URL", responses=_REFUSED)
def start(body: LiveIn) -> LiveOut:
    """Open a live session; it goes on air on every target agent as soon as its mount has audio."""
    user = permit("live")
    try:
        view, ingest = _live().start(user, targets=body.targets, title=body.title)
    except LiveUnavailable as exc:
        abort(503, str(exc), "live_unavailable")
    return _out(view, ingest)


@bp.get("/live")
@bp.auth_required(token_auth)
@bp.output(LiveList)
@bp.doc(summary="Live sessions, newest first (the archive)", responses={503: _REFUSED[503]})
def list_all() -> LiveList:
    """Sessions of the user's commune, with their recordings."""
    user = permit("plays.read")
    return LiveList(items=[_out(view) for view in _live().list(user)])


@bp.get("/live/<session_id>")
@bp.auth_required(token_auth)
@bp.output(LiveOut)
@bp.doc(summary="One live session, with its recording's audio URL once archived", responses=_REFUSED)
def get(session_id: str) -> LiveOut:
    """One session."""
    user = permit("plays.read")
    return _out(_live().get(user, session_id))


@bp.post("/live/<session_id>/confirm")
@bp.auth_required(token_auth)
@bp.output(LiveOut)
@bp.doc(summary="Second person's confirmation (LOAXA_LIVE_TWO_PERSON)", responses=_REFUSED)
def confirm(session_id: str) -> LiveOut:
    """Let a pending session go on air."""
    user = permit("live")
    return _out(_live().confirm(user, session_id))


@bp.post("/live/<session_id>/end")
@bp.auth_required(token_auth)
@bp.output(LiveOut)
@bp.doc(summary="End a live session on every agent", responses=_REFUSED)
def end(session_id: str) -> LiveOut:
    """End the session: `live_stop` to every agent, the recording archived."""
    user = permit("live")
    return _out(_live().end(user, session_id))


@bp.post("/live/<session_id>/chunks")
@bp.auth_required(token_auth)
@bp.output(ChunkOut)
@bp.doc(
    summary="A browser's audio chunk: multipart `chunk` (webm/opus, ≤ 512 KB) and `seq` from 0",
    responses=_REFUSED,
)
@accepts_uploads
def chunk(session_id: str) -> ChunkOut:
    """Pipe one chunk of the phone's microphone into the session's mount."""
    user = permit("live")
    live = _live()
    view = live.get(user, session_id)
    seq_text = request.form.get("seq", "")
    upload = request.files.get("chunk")
    if not seq_text.isdigit() or upload is None:
        abort(422, "Cần trường seq (0, 1, 2, …) và tệp chunk (webm/opus).", "bad_chunk")
    ingest = live.ingest_url(session_id)
    if ingest is None or view.state == "ended":
        abort(409, "Phiên phát trực tiếp đã kết thúc; hãy bắt đầu phiên mới.", "live_ended")
    try:
        accepted = live.desk.open_chunks(session_id, ingest).feed(int(seq_text), upload.read())
    except ChunkRefused as refused:
        abort(409, refused.message, refused.code)
    return ChunkOut(seq=int(seq_text), accepted=accepted, state=view.state)
