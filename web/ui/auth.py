"""Signing in and out of the HTML UI, and the admins' user management page.

Owns the login, logout, /users (add, role, area, disable, one-time reset codes), the user's own password
change (/doi-mat-khau) and setting a password with a reset code (/dat-lai-mat-khau) pages. Passwords,
roles, areas and reset codes are controller.services.users and user_admin; sign-ins go through
web.api.auth.sign_in, so the lockout and audit cover the browser too.
"""

import math
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from controller import services
from controller.services import user_admin
from controller.services.errors import AuthenticationFailed, NotFound, ServiceError
from controller.services.scope import areas_to_choose
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
    """The users under the admin's area with role, area and state, and a form to add one."""
    admin = ui_session.user()
    with web_context().db.session() as db:
        people = [(p, services.user_area(db, p)) for p in user_admin.users_managed(db, admin)]
        own = services.user_area(db, admin)
        choices = areas_to_choose(db, own)
    return render_template("ui/users.html", people=people, choices=choices, own=own)


@bp.post("/users")
@page("user.manage")
def add_user() -> Response:
    """Create a user in an area under the admin's (their own by default)."""
    admin = ui_session.user()
    form = request.form
    context = web_context()
    try:
        with context.db.session() as db:
            area = form.get("area") or services.user_area(db, admin)
            user_admin.check_area_given(db, admin, area)
            services.create_user(
                db, form.get("username", "").strip(), form.get("password", ""), form.get("role", ""),
                context.clock(), area=area, actor=admin.username,
            )  # fmt: skip
        flash(f"Đã thêm người dùng {form.get('username', '').strip()}.", "info")
    except ServiceError as exc:
        common.flash_error(exc)
    return redirect(url_for("ui_auth.users"))


def _change_user(username: str, done: str, **changes: Any) -> Response:
    """Apply an admin's change to a user (role, area, active); flash `done` or the refusal."""
    admin = ui_session.user()
    context = web_context()
    try:
        with context.db.session() as db:
            user_admin.change_user(db, admin, user_admin.user_id_of(db, username), context.clock(), **changes)
        flash(done, "info")
    except NotFound:
        raise  # someone outside the admin's area: the 404 page, as for no one
    except ServiceError as exc:
        common.flash_error(exc)
    return redirect(url_for("ui_auth.users"))


@bp.post("/users/<username>/active")
@page("user.manage")
def set_active(username: str) -> Response:
    """Deactivate (or re-activate) a user; admins cannot lock themselves out."""
    active = request.form.get("active") == "1"
    done = f"Đã {'mở khóa' if active else 'khóa'} tài khoản {username}."
    return _change_user(username, done, active=active)


@bp.post("/users/<username>/change")
@page("user.manage")
def change(username: str) -> Response:
    """Give a user another role or area."""
    return _change_user(
        username,
        f"Đã cập nhật vai trò và địa bàn của {username}.",
        role=request.form.get("role") or None,
        area=request.form.get("area") or None,
    )


@bp.post("/users/<username>/reset")
@page("user.manage")
def reset(username: str) -> Response:
    """Issue a one-time reset code and show it this once."""
    admin = ui_session.user()
    context = web_context()
    try:
        with context.db.session() as db:
            code = user_admin.issue_reset(db, admin, user_admin.user_id_of(db, username), context.clock())
        flash(
            f"Mã đặt lại mật khẩu của {username}: {code.code} — dùng một lần, hết hạn sau 24 giờ. "
            f"Đưa mã cho người dùng; họ mở trang {url_for('ui_auth.redeem_form')} để đặt mật khẩu mới.",
            "info",
        )
    except NotFound:
        raise  # someone outside the admin's area: the 404 page, as for no one
    except ServiceError as exc:
        common.flash_error(exc)
    return redirect(url_for("ui_auth.users"))


@bp.get("/dat-lai-mat-khau")
def redeem_form() -> str:
    """Where a user sets a new password with a one-time code (no sign-in)."""
    return render_template("ui/password_reset.html", username=request.args.get("u", ""))


@bp.post("/dat-lai-mat-khau")
@accepts_uploads
def redeem() -> str | Response | tuple[str, int]:
    """Spend the code and set the new password."""
    ui_session.check_csrf(request)
    form = request.form
    context = web_context()
    try:
        with context.db.session() as db:
            user_admin.redeem_reset(
                db, form.get("username", "").strip(), form.get("code", "").strip(), form.get("password", ""),
                context.clock(),
            )  # fmt: skip
    except ServiceError as exc:
        common.flash_error(exc)
        return render_template("ui/password_reset.html", username=form.get("username", "")), exc.http_status
    flash("Đã đặt mật khẩu mới. Hãy đăng nhập.", "info")
    return redirect(url_for("ui_auth.login"))


@bp.get("/doi-mat-khau")
@page()
def password_form() -> str:
    """The signed-in user's own password change."""
    return render_template("ui/password.html")


@bp.post("/doi-mat-khau")
@page()
def password() -> str | Response | tuple[str, int]:
    """Check the current password, set the new one, and sign in again."""
    me = ui_session.user()
    context = web_context()
    try:
        with context.db.session() as db:
            user_admin.change_password(
                db,
                me,
                request.form.get("old_password", ""),
                request.form.get("password", ""),
                context.clock(),
            )
    except ServiceError as exc:
        common.flash_error(exc)
        return render_template("ui/password.html"), exc.http_status
    ui_session.sign_out()
    flash("Đã đổi mật khẩu. Hãy đăng nhập lại bằng mật khẩu mới.", "info")
    return redirect(url_for("ui_auth.login"))
