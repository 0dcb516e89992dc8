"""The commune's pronunciation dictionary as a page: list, search, add, change, delete, and listen.

Owns the HTML side of the dictionary. The file and its merged view are controller.tts.commune_lexicon
(renders pick an edit up at once); the listen button is web.ui.preview, which reads the written form
with the dictionary in effect. Entry checks are said here in Vietnamese, with the same rules as
controller.tts.lexicon.check_entry, which stays the final guard.
"""

import unicodedata
from typing import Final

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller.tts.commune_lexicon import LexiconView, load_view, replace_commune_entries
from controller.tts.lexicon import MAX_KEY_CHARS, MAX_READING_CHARS, Entry, Kind, LexiconError, check_entry
from web.context import web_context
from web.ui import common, preview
from web.ui.session import page

bp = common.html_errors(Blueprint("ui_lexicon", __name__))

KIND_NAMES: Final[dict[Kind, str]] = {"abbreviation": "Chữ viết tắt", "place": "Địa danh"}


def _view() -> LexiconView:
    return load_view(web_context().settings.data_dir)


def problems(key: str, reading: str) -> list[str]:
    """What is wrong with an entry, in Vietnamese (empty when it is fine)."""
    found = []
    if not key or not any(ch.isalnum() for ch in key):
        found.append("Hãy nhập chữ viết (có ít nhất một chữ cái hoặc chữ số).")
    if len(key) > MAX_KEY_CHARS:
        found.append(f"Chữ viết dài {len(key)} ký tự; tối đa {MAX_KEY_CHARS}.")
    if not any(ch.isalpha() for ch in reading):
        found.append("Hãy nhập cách đọc bằng chữ, ví dụ “ủy ban nhân dân”.")
    if any(ch.isdigit() for ch in reading):
        found.append(
            f"Cách đọc “{reading:.60}” có chữ số: hãy viết số thành chữ (“bốn gờ”, không phải “4 gờ”)."
        )
    if len(reading) > MAX_READING_CHARS:
        found.append(f"Cách đọc dài {len(reading)} ký tự; tối đa {MAX_READING_CHARS}.")
    if any(unicodedata.category(ch)[0] == "C" for ch in key + reading):
        found.append("Hãy bỏ dấu xuống dòng và ký tự điều khiển.")
    if not found and check_entry(key, reading):  # a rule added there first: still refuse, in Vietnamese
        found.append("Mục từ này chưa hợp lệ: hãy viết lại chữ viết và cách đọc cho đơn giản.")
    return found


@bp.get("/lexicon")
@page("lexicon.manage")
def index() -> str | tuple[str, int]:
    """Every entry in effect (the commune's first), filtered by what the admin searches for."""
    try:
        view = _view()
    except LexiconError:
        flash("Tệp từ điển của xã bị hỏng nên không đọc được; lưu một mục từ mới sẽ ghi lại tệp.", "error")
        return render_template("ui/lexicon.html", rows=[], query="", kinds=KIND_NAMES, edit=None), 500
    query = request.args.get("q", "").strip()
    commune = {e.key: e for e in view.commune}
    packaged = {e.key: e for e in view.packaged}
    merged = sorted({**packaged, **commune}.values(), key=lambda e: (e.key not in commune, e.key.casefold()))
    folded = query.casefold()
    rows = [
        (entry, entry.key in commune, packaged.get(entry.key))
        for entry in merged
        if not folded or folded in entry.key.casefold() or folded in entry.reading.casefold()
    ]
    edit = request.args.get("sua")
    return render_template(
        "ui/lexicon.html", rows=rows, query=query, kinds=KIND_NAMES, edit=merged_entry(merged, edit)
    )


def merged_entry(entries: list[Entry], key: str | None) -> Entry | None:
    """The entry the admin chose to change (its current reading fills the form)."""
    return next((e for e in entries if e.key == key), None) if key else None


@bp.post("/lexicon")
@page("lexicon.manage")
def save() -> Response:
    """Add or change one of the commune's entries (a packaged one gets a commune override)."""
    key = " ".join(request.form.get("key", "").split())
    reading = " ".join(request.form.get("reading", "").split())
    kind: Kind = "place" if request.form.get("kind") == "place" else "abbreviation"
    found = problems(key, reading)
    if found:
        for problem in found:
            flash(problem, "error")
        return redirect(url_for("ui_lexicon.index", q=key))
    kept = [e for e in _commune_entries() if e.key != key]
    replace_commune_entries(web_context().settings.data_dir, [*kept, Entry(key, reading, kind)])
    flash(f"Đã lưu: “{key}” đọc là “{reading}”. Các bản tin đọc mới từ bây giờ dùng cách đọc này.", "info")
    return redirect(url_for("ui_lexicon.index", q=key))


def _commune_entries() -> list[Entry]:
    try:
        return list(_view().commune)
    except LexiconError:
        return []  # a broken file is replaced by what the admin saves now


@bp.post("/lexicon/delete")
@page("lexicon.manage")
def delete() -> Response:
    """Remove the commune's entry; a packaged reading of the same word applies again."""
    key = request.form.get("key", "")
    commune = _commune_entries()
    if all(e.key != key for e in commune):
        flash(f"Từ điển của xã không có mục “{key:.40}”; mục có sẵn của phần mềm không xóa được.", "error")
        return redirect(url_for("ui_lexicon.index"))
    replace_commune_entries(web_context().settings.data_dir, [e for e in commune if e.key != key])
    flash(f"Đã xóa mục “{key}” khỏi từ điển của xã.", "info")
    return redirect(url_for("ui_lexicon.index"))


@bp.post("/lexicon/listen")
@page("lexicon.manage")
def listen() -> tuple[str, int] | Response:
    """Hear how a written form is read now (with the dictionary in effect)."""
    text = request.form.get("text", "")
    if preview.wants_fragment():
        return preview.fragment(text)
    answer, status = preview.fragment(text)
    return render_template("ui/lexicon_listen.html", text=text, answer=answer), status
