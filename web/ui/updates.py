"""The admins' page "Cập nhật phần mềm": agent versions across the fleet and over-the-air rollouts.

Owns the page, its start and cancel forms. Starting offers only the versions published in the controller's
apt repository; the rules are controller.usecases.rollouts (the same as `POST /api/v1/updates` and
`loaxa update`), and the scheduler leader's job sends the commands wave by wave.
"""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller import apt_repo
from controller.services import rollouts
from controller.services.errors import ServiceError, ValidationFailed
from controller.usecases.rollouts import PACKAGE, RolloutUseCases
from web.context import web_context
from web.ui import common
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_updates", __name__))

STATES = {"running": "Đang chạy", "done": "Đã xong", "failed": "Dừng vì lỗi", "cancelled": "Đã huỷ"}
WAVES = {"done": "xong", "running": "đang cập nhật", "failed": "lỗi", "cancelled": "đã huỷ", "pending": "chờ"}


def _use_cases() -> RolloutUseCases:
    context = web_context()
    return RolloutUseCases(context.db, context.clock, apt_repo.repository_dir(context.settings))


def _page(status: int = 200) -> tuple[str, int]:
    context = web_context()
    with context.db.session() as session:
        versions = rollouts.version_counts(session)
        recent = rollouts.recent_rollouts(session, limit=5)
        devices = sorted(rollouts.fleet_health(session))
    published = apt_repo.published_versions(apt_repo.repository_dir(context.settings), PACKAGE)
    html = render_template(
        "ui/updates.html",
        versions=versions,
        total=sum(versions.values()),
        rollouts=recent,
        published=list(reversed(published)),
        devices=devices,
        states=STATES,
        waves=WAVES,
    )
    return html, status


@bp.get("/updates")
@page("device.manage")
def index() -> tuple[str, int]:
    """Versions across the fleet, the latest rollouts with each wave's progress, and the start form."""
    return _page()


def _share(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        message = f"Tỉ lệ đợt hai phải là số phần trăm từ 1 đến 100, không phải '{text}'."
        raise ValidationFailed(message) from None


@bp.post("/updates")
@page("device.manage")
def start() -> Response | tuple[str, int]:
    """Start a rollout of a published version."""
    form = request.form
    try:
        view = _use_cases().start(
            form.get("version", ""),
            canary=[d for d in form.getlist("canary") if d],
            share_percent=_share(form.get("share", "10")),
            deadline=timedelta(minutes=20),
            actor=user().username,
        )
    except ServiceError as exc:
        common.flash_error(exc)
        return _page(422)
    flash(f"Đã bắt đầu cập nhật lên loaxa-agent {view.version}: đợt 1 có {len(view.waves[0])} cụm.", "info")
    return redirect(url_for("ui_updates.index"))


@bp.post("/updates/<int:rollout_id>/cancel")
@page("device.manage")
def cancel(rollout_id: int) -> Response | tuple[str, int]:
    """Cancel a running rollout or acknowledge a failed one."""
    try:
        view = _use_cases().cancel(rollout_id, actor=user().username)
    except ServiceError as exc:
        common.flash_error(exc)
        return _page(409)
    flash(f"Đã huỷ lần cập nhật số {view.id}; các cụm đã lên {view.version} giữ nguyên.", "info")
    return redirect(url_for("ui_updates.index"))
