"""Signing in and out of the HTML UI, and the admins' user management page.

Owns the login, logout and /users pages. Passwords, roles and deactivation are controller.services.users;
sign-ins go through web.api.auth.sign_in, so the lockout and audit cover the browser too.
"""

import math
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller import services
from controller.services.errors import AuthenticationFailed, ServiceError
from controller.services.views import UserView
from web.api.auth import SignInLocked, sign_in
from web.api.guards import accepts_uploads
from web.context import web_context
from web.ui import common
from web.ui import session as ui_session
from web.ui.session import page

bp = common.html_errors(Blueprint("ui_auth", __name__))


def _safe_next(target: str | None) -> str:
    r"""Only local paths: a login link must not send the user to another site.

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, so "/\t/evil" and
    "/\evil" are "//evil", another host; a control character also breaks the Location header.
    """
    if (
        target
        and target.startswith("/")
        and target.isprintable()
        and "\\" not in target
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("ui_bulletins.index")


@bp.get("/login")
def login() -> str:
    """The sign-in form."""
    return render_template("ui/login.html", next=request.args.get("next", ""))


@bp.post("/login")
@accepts_uploads
def login_post() -> str | Response | tuple[str, int]:
    """Check the password; on success start a new session and go where the user was heading."""
    ui_session.check_csrf(request)
    username = request.form.get("username", "").strip().lower()
    try:
        # The same throttle and audit as the REST sign-in: a browser is no way around the lockout.
        user, _ = sign_in(username, request.form.get("password", ""))
    except SignInLocked as locked:
        minutes = math.ceil(locked.retry_after_s / 60)
        flash(f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.", "error")
        page = render_template("ui/login.html", next=request.form.get("next", ""), username=username)
        return page, 429
    except AuthenticationFailed:
        flash("Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đã bị khóa.", "error")
        return render_template("ui/login.html", next=request.form.get("next", ""), username=username), 401
    ui_session.sign_in(user)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
@page()
def logout() -> Response:
    """End the session."""
    ui_session.sign_out()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("ui_auth.login"))


@bp.get("/users")
@page("user.manage")
def users() -> str:
    """Every user with role and state, and a form to add one."""
    admin = ui_session.user()
    with web_context().db.session() as db:
        people = [p for p in services.list_users(db) if _same_commune(admin, p)]
    return render_template("ui/users.html", people=people)


def _same_commune(admin: UserView, other: UserView) -> bool:
    """A commune's admin manages that commune's people; an admin without a commune manages everyone."""
    return admin.commune_id is None or other.commune_id == admin.commune_id


@bp.post("/users")
@page("user.manage")
def add_user() -> Response:
    """Create a user in the admin's commune."""
    admin = ui_session.user()
    form = request.form
    context = web_context()
    try:
        with context.db.session() as db:
            services.create_user(
                db,
                form.get("username", "").strip(),
                form.get("password", ""),
                form.get("role", ""),
                context.clock(),
                commune_id=admin.commune_id,
                actor=admin.username,
            )
        flash(f"Đã thêm người dùng {form.get('username', '').strip()}.", "info")
    except ServiceError as exc:
        common.flash_error(exc)
    return redirect(url_for("ui_auth.users"))


@bp.post("/users/<username>/active")
@page("user.manage")
def set_active(username: str) -> Response:
    """Deactivate (or re-activate) a user; admins cannot lock themselves out."""
    admin = ui_session.user()
    active = request.form.get("active") == "1"
    if username == admin.username and not active:
        flash("Bạn không thể tự khóa tài khoản của mình.", "error")
        return redirect(url_for("ui_auth.users"))
    context = web_context()
    with context.db.session() as db:
        if not _same_commune(admin, services.get_user(db, username)):
            abort(404)
        services.set_user_active(db, username, active, context.clock(), actor=admin.username)
    flash(f"Đã {'mở khóa' if active else 'khóa'} tài khoản {username}.", "info")
    return redirect(url_for("ui_auth.users"))
