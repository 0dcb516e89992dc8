"""Writing a bulletin (text or recording, targets, when), submitting it, and editing it later.

An edit after approval sends the bulletin back for approval (controller.services.bulletin_edit).

The page shows the normalized reading with its audio and a picture of where it lands in the next window.

Owns the compose and edit forms. Speech previews are web.ui.preview; the schedule fields are
web.ui.schedule_form; saving, submitting and editing are use cases (controller.usecases); where it lands
is an estimate from the runtime's `planning_preview` hook (the planner decides for real after approval).
"""

from collections import Counter
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from controller.services.errors import ServiceError
from controller.services.views import BulletinView
from controller.tts.errors import TtsError
from controller.usecases import BulletinDraft, Recording
from controller.usecases.bulletins import RecordingsUnavailable
from web.context import web_context
from web.ui import bulletins, common, landing, preview, schedule_form, targets
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_compose", __name__))
EDITABLE = ("draft", "pending", "approved")


def _page(
    form: MultiDict[str, str],
    heard: preview.Preview | None = None,
    status: int = 200,
    *,
    editing: BulletinView | None = None,
) -> tuple[str, int]:
    context = web_context()
    with context.db.session() as db:
        offered = targets.choices(db, user(), context.clock())
        wanted = targets.reached(db, targets.targets_of(form), offered)
    length_ms = heard.duration_ms if heard else landing.estimate_ms(form.get("text", ""))
    picture = landing.next_window(length_ms, wanted)
    html = render_template(
        "ui/compose.html",
        form=form,
        offered=offered,
        counts=Counter(d.village_id for d in offered.devices),
        preview=heard,
        picture=picture,
        schedule_modes=schedule_form.MODES,
        weekdays=schedule_form.WEEKDAYS,
        date_fields=schedule_form.DATE_FIELDS,
        windows=common.schedule().windows,
        editing=editing,
    )
    return html, status


@bp.get("/compose")
@page("bulletin.create")
def compose() -> tuple[str, int]:
    """The empty form."""
    return _page(MultiDict())


@bp.post("/compose/preview")
@page("bulletin.create")
def preview_text() -> tuple[str, int]:
    """How the text will be read, with a player: a fragment for the page's script, else the whole form."""
    text = request.form.get("text", "")
    if preview.wants_fragment():
        return preview.fragment(text)
    editing = request.form.get("editing", "")
    view = _editable(int(editing)) if editing.isdigit() else None  # the edit form keeps saving as an edit
    try:
        heard = preview.hear(text)
    except TtsError as exc:
        common.flash_error(exc)
        return _page(request.form, status=422, editing=view)
    return _page(request.form, heard, editing=view)


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


def _schedule(form: MultiDict[str, str]) -> dict[str, Any]:
    try:
        return schedule_form.schedule_of(form, common.schedule().timezone)
    except schedule_form.ScheduleProblem as exc:
        raise _FormProblem(str(exc)) from exc


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
            targets=targets.targets_of(form),
            schedule=_schedule(form),
        )
        view = context.bulletins.create(me, draft, recording=recording, submit=True)
    except _FormProblem as exc:
        flash(str(exc), "error")
        return _page(form, status=422)
    except RecordingsUnavailable:
        flash("Máy chủ chưa nhận bản ghi âm; hãy gửi bản tin bằng văn bản.", "error")
        return _page(form, status=422)
    except ServiceError as exc:  # 403 for a place outside the user's area, else 4xx as the service says
        common.flash_error(exc)
        return _page(form, status=exc.http_status)
    except TtsError as exc:
        common.flash_error(exc)
        return _page(form, status=422)
    flash("Đã gửi bản tin đi duyệt.", "info")
    return redirect(url_for("ui_bulletins.detail", bulletin_id=view.id))


def _editable(bulletin_id: int) -> BulletinView:
    with web_context().db.session() as db:
        view = bulletins.load(db, bulletin_id, user())
    if view.status not in EDITABLE:
        abort(409, "Bản tin này đã kết thúc hoặc bị hủy nên không sửa được nữa.")
    return view


def _fields_of(view: BulletinView) -> MultiDict[str, str]:
    """The form fields that show a stored bulletin."""
    fields: dict[str, Any] = {"title": view.title, "text": view.text, "priority": view.priority}
    for mode in targets.MODES:
        if mode in view.targets:
            fields |= {"target_mode": mode, mode: list(view.targets[mode])}
    fields |= schedule_form.form_of(view.schedule, common.schedule().timezone)
    return MultiDict(
        [
            (key, item)
            for key, value in fields.items()
            for item in (value if isinstance(value, list) else [value])
        ]
    )


@bp.get("/bulletins/<int:bulletin_id>/edit")
@page("bulletin.submit")
def edit(bulletin_id: int) -> tuple[str, int]:
    """The compose form filled with the bulletin, to change its words, places or times."""
    view = _editable(bulletin_id)
    return _page(_fields_of(view), editing=view)


@bp.post("/bulletins/<int:bulletin_id>/edit")
@page("bulletin.submit")
def save_edit(bulletin_id: int) -> Response | tuple[str, int]:
    """Save the changes; an approved bulletin goes back to the approvers before anything plays."""
    view = _editable(bulletin_id)
    form = request.form
    changes = {
        "title": form.get("title", ""),
        "text": form.get("text", ""),
        "targets": targets.targets_of(form),
    }
    try:
        changes["schedule"] = _schedule(form)
        saved = web_context().bulletins.edit(user(), bulletin_id, changes)
    except _FormProblem as exc:
        flash(str(exc), "error")
        return _page(form, status=422, editing=view)
    except ServiceError as exc:
        common.flash_error(exc)
        return _page(form, status=exc.http_status, editing=view)
    if view.status == "approved" and saved.status == "pending":
        flash("Đã lưu thay đổi. Bản tin đã được gửi duyệt lại và chỉ phát sau khi được duyệt.", "info")
    else:
        flash("Đã lưu thay đổi.", "info")
    return redirect(url_for("ui_bulletins.detail", bulletin_id=bulletin_id))
