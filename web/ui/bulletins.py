"""Bulletin pages: the list, one bulletin with its audio, deliveries and audit trail, and the approval queue.

Owns the HTML side of reading bulletins and of the submit / approve / reject / cancel steps. Each step is
a controller use case, which commits and announces it; every rule (who may, from which status, no
self-approval) is controller.services.
"""

from dataclasses import dataclass
from typing import Final

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from controller import services
from controller.services.errors import ServiceError
from controller.services.scope import areas_to_choose, devices_for, sees_bulletin
from controller.services.views import BulletinView, UserView
from web.context import web_context
from web.ui import common, query, schedule_form
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_bulletins", __name__))
PAGE_SIZE: Final = 50


def load(db: Session, bulletin_id: int, me: UserView) -> BulletinView:
    """A bulletin the user may see (404, as for none at all, for one outside their area).

    What `sees_bulletin` lets the user's area see (DESIGN §11, as over the API); and, for a commune's
    staff, a bulletin sent from no area and no commune, as before areas existed (an installation-wide
    admin's).
    """
    view = services.get_bulletin(db, bulletin_id)
    unplaced = view.commune_id is None and view.sender_area is None
    if me.commune_id is not None and unplaced:
        return view
    if not sees_bulletin(db, services.scope_of(db, me), bulletin_id):
        abort(404)
    return view


@dataclass(frozen=True)
class Names:
    """Names of the places a user's bulletins may target: villages, clusters, areas (id or code → name)."""

    villages: dict[str, str]
    devices: dict[str, str]
    areas: dict[str, str]


def names(db: Session, me: UserView) -> Names:
    """The places under the user's area, by name: a commune's as before areas existed.

    Above a commune, clusters are named by their ids (a province has 3,000; a target names few of them).
    """
    scope = services.scope_of(db, me)
    areas = {a.code: a.name for a in areas_to_choose(db, scope.area)}
    if not scope.above_commune():
        villages = {v.id: v.name for v in services.list_villages(db, me.commune_id)}
        devices = {d.id: d.name for d in services.list_devices(db, common.now(), commune_id=me.commune_id)}
        return Names(villages, devices, areas)
    villages = {v.id: v.name for v in services.list_villages(db) if scope.covers(v.commune_id)}
    return Names(villages, {d: d for d in devices_for(db, {"all": True}, scope)}, areas)


def places(view: BulletinView, known: Names) -> str:
    """Where a bulletin plays, in words: everything, or the named villages, clusters or areas."""
    if "villages" in view.targets:
        return "Thôn bản: " + ", ".join(known.villages.get(v, v) for v in view.targets["villages"])
    if "clusters" in view.targets:
        return "Cụm loa: " + ", ".join(known.devices.get(d, d) for d in view.targets["clusters"])
    if "areas" in view.targets:
        return "Địa bàn: " + ", ".join(known.areas.get(a, a) for a in view.targets["areas"])
    return f"Tất cả thôn bản ({len(known.devices)} cụm loa)"


def when(view: BulletinView) -> tuple[str, str]:
    """The schedule in words and, for an emergency, "at once", else the first window it would use."""
    windows = common.schedule()
    if view.priority == "emergency":
        return "Phát ngay khi được duyệt, cả ngoài khung giờ", "ngay lập tức"
    words = schedule_form.describe(view.schedule, windows)
    return words, schedule_form.expected(view.schedule, windows, common.now())


def audio_urls(view: BulletinView) -> list[tuple[str, str]]:
    """(language, signed URL) of each audio version, in playing order."""
    return [(a.language, common.audio_url(a.sha256)) for a in sorted(view.audio, key=lambda a: a.position)]


@bp.get("/bulletins")
@page("bulletin.read")
def index() -> str:
    """Bulletins of the commune, newest first, optionally of one status, a page at a time."""
    me = user()
    status = request.args.get("status") or None
    if status not in (None, *common.STATUSES):
        status = None
    number = query.number("trang", 1, 1, query.MAX_PAGE)
    with web_context().db.session() as db:
        # One more than a page tells whether a next page exists without counting every bulletin.
        items = services.list_bulletins(
            db,
            status=status,
            commune_id=me.commune_id,
            scope=services.scope_of(db, me),
            limit=PAGE_SIZE + 1,
            offset=(number - 1) * PAGE_SIZE,
        )
    return render_template(
        "ui/bulletins.html",
        items=items[:PAGE_SIZE],
        status=status,
        page_number=number,
        has_next=len(items) > PAGE_SIZE,
    )


@bp.get("/bulletins/<int:bulletin_id>")
@page("bulletin.read")
def detail(bulletin_id: int) -> str:
    """One bulletin: text, audio, targets, deliveries and its audit trail."""
    me = user()
    with web_context().db.session() as db:
        view = load(db, bulletin_id, me)
        trail = services.list_audit(db, entity="bulletin", entity_id=bulletin_id)
        known = names(db, me)
    return render_template(
        "ui/bulletin.html",
        b=view,
        audio=audio_urls(view),
        trail=trail,
        where=places(view, known),
        when=when(view),
    )


@bp.get("/approvals")
@page("bulletin.approve")
def queue() -> str:
    """Pending bulletins to read, hear, approve or reject, oldest first, each with where and when."""
    me = user()
    with web_context().db.session() as db:
        pending = services.list_bulletins(
            db, status="pending", commune_id=me.commune_id, scope=services.scope_of(db, me), limit=200
        )
        known = names(db, me)
    items = [(b, audio_urls(b), places(b, known), when(b)) for b in reversed(pending)]
    return render_template("ui/queue.html", items=items)


def _step(bulletin_id: int, step: str, done: str) -> Response:
    """Run one workflow step (a controller use case) for the signed-in user, go back where we came from."""
    me = user()
    context = web_context()
    with context.db.session() as db:
        load(db, bulletin_id, me)  # outside the user's area: 404, as for no bulletin at all
    bulletins = context.bulletins
    try:
        if step == "submit":
            bulletins.submit(me, bulletin_id)
        elif step == "approve":
            bulletins.approve(me, bulletin_id)
        elif step == "reject":
            bulletins.reject(me, bulletin_id, request.form.get("reason", ""))
        else:
            bulletins.cancel(me, bulletin_id)
    except ServiceError as exc:
        common.flash_error(exc)
    else:
        flash(done, "info")
    back = request.form.get("back")
    if back == "queue":
        return redirect(url_for("ui_bulletins.queue"))
    return redirect(url_for("ui_bulletins.detail", bulletin_id=bulletin_id))


@bp.post("/bulletins/<int:bulletin_id>/submit")
@page("bulletin.submit")
def submit(bulletin_id: int) -> Response:
    """Draft → pending."""
    return _step(bulletin_id, "submit", "Đã gửi bản tin đi duyệt.")


@bp.post("/bulletins/<int:bulletin_id>/approve")
@page("bulletin.approve")
def approve(bulletin_id: int) -> Response:
    """Pending → approved (never by its own author)."""
    return _step(bulletin_id, "approve", "Đã duyệt bản tin; hệ thống sẽ xếp lịch phát.")


@bp.post("/bulletins/<int:bulletin_id>/reject")
@page("bulletin.reject")
def reject(bulletin_id: int) -> Response:
    """Pending → rejected, with the reason the author reads."""
    return _step(bulletin_id, "reject", "Đã từ chối bản tin.")


@bp.post("/bulletins/<int:bulletin_id>/cancel")
@page("bulletin.cancel")
def cancel(bulletin_id: int) -> Response:
    """Draft, pending or approved → cancelled."""
    return _step(bulletin_id, "cancel", "Đã hủy bản tin.")


@bp.get("/bulletins/<int:bulletin_id>/listen")
@page("bulletin.read")
def listen(bulletin_id: int) -> Response:
    """Hear a text bulletin before it is approved: render its reading (cached) and open the audio."""
    me = user()
    context = web_context()
    with context.db.session() as db:
        view = load(db, bulletin_id, me)
    _normalized, sha256, _engine = context.render_preview(view.text)
    return redirect(common.audio_url(sha256))
