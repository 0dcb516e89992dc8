"""Writing a bulletin: text with preview or a recording, targets, when it plays, and submitting it.

The page shows the normalized reading with its audio and a picture of where it lands in the next window.

Owns the compose form and its preview. Speech is the runtime's `render_preview` hook; saving and submitting
is the `create` use case (controller.usecases); where it lands is an estimate from the runtime's
`planning_preview` hook (the planner decides for real after approval).
"""

from collections import Counter
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from controller import services
from controller.services.errors import NotFound, ServiceError
from controller.tts.errors import TtsError
from controller.usecases import BulletinDraft, Recording
from controller.usecases.bulletins import RecordingsUnavailable
from web.context import web_context
from web.ui import common, landing
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_compose", __name__))

# How a bulletin may be scheduled; the planner grows more modes (DESIGN §7) and this list with it.
SCHEDULE_OPTIONS = (("next_window", "Khung giờ phát kế tiếp"),)


def targets_of(form: MultiDict[str, str]) -> dict[str, Any]:
    """The targets the form picked: all, some villages, or some clusters."""
    mode = form.get("target_mode", "all")
    if mode in ("villages", "clusters"):
        return {mode: form.getlist(mode)}
    return {"all": True}


def _page(
    form: MultiDict[str, str], preview: dict[str, Any] | None = None, status: int = 200
) -> tuple[str, int]:
    me = user()
    context = web_context()
    with context.db.session() as db:
        villages = services.list_villages(db, me.commune_id)
        devices = services.list_devices(db, context.clock(), commune_id=me.commune_id)
    counts = Counter(d.village_id for d in devices)
    length_ms = preview["duration_ms"] if preview else landing.estimate_ms(form.get("text", ""))
    picture = landing.next_window(length_ms, targets_of(form), devices)
    html = render_template(
        "ui/compose.html",
        form=form,
        villages=villages,
        devices=devices,
        counts=counts,
        preview=preview,
        picture=picture,
        schedule_options=SCHEDULE_OPTIONS,
    )
    return html, status


@bp.get("/compose")
@page("bulletin.create")
def compose() -> tuple[str, int]:
    """The empty form."""
    return _page(MultiDict())


@bp.post("/compose/preview")
@page("bulletin.create")
def preview() -> tuple[str, int]:
    """Show how the text will be read and let the operator hear it; the form keeps what was typed."""
    context = web_context()
    text = request.form.get("text", "")
    try:
        normalized, sha256, engine = context.render_preview(text)
    except TtsError as exc:
        common.flash_error(exc)
        return _page(request.form, status=422)
    try:
        with context.db.session() as db:
            duration_ms = services.get_asset(db, sha256).duration_ms
    except NotFound:  # the runtime keeps previews as assets; without one, estimate from the text
        duration_ms = landing.estimate_ms(text)
    found = {
        "text": normalized,
        "url": common.audio_url(sha256),
        "engine": engine,
        "duration_ms": duration_ms,
    }
    return _page(request.form, found)


def _recording() -> Recording | None:
    """The uploaded or browser-recorded audio and its language, when the form chose a recording."""
    if request.form.get("source") != "recording":
        return None
    upload = request.files.get("audio")
    data = upload.read() if upload is not None else b""
    if not data:
        raise _FormProblem("Hãy chọn tệp âm thanh hoặc bấm Ghi âm trước khi gửi.")
    language = request.form.get("language", "")
    if language not in common.LANGUAGES:
        raise _FormProblem("Hãy chọn ngôn ngữ của bản ghi âm.")
    return Recording(data, language)


class _FormProblem(Exception):
    """Something the form lacks, said in Vietnamese."""


@bp.post("/compose")
@page("bulletin.create")
def create() -> Response | tuple[str, int]:
    """Save the bulletin (with its recording), submit it for approval and open its page."""
    me = user()
    context = web_context()
    form = request.form
    try:
        recording = _recording()
        draft = BulletinDraft(
            title=form.get("title", ""),
            text=form.get("text", ""),
            priority=form.get("priority", "normal"),
            targets=targets_of(form),
            schedule={"mode": form.get("schedule", "next_window")},
        )
        view = context.bulletins.create(me, draft, recording=recording, submit=True)
    except _FormProblem as exc:
        flash(str(exc), "error")
        return _page(form, status=422)
    except RecordingsUnavailable:
        flash("Máy chủ chưa nhận bản ghi âm; hãy gửi bản tin bằng văn bản.", "error")
        return _page(form, status=422)
    except (ServiceError, TtsError) as exc:
        common.flash_error(exc)
        return _page(form, status=422)
    flash("Đã gửi bản tin đi duyệt.", "info")
    return redirect(url_for("ui_bulletins.detail", bulletin_id=view.id))
