"""Who is signed in to the HTML UI: the session cookie, its CSRF token and the role gate of each page.

Owns the UI's session keys (`sid`, `csrf`), the cookie flags and the CSRF check of every POST; passwords
and permissions are controller.services.users. Must not serve pages itself (the blueprints do).

The signed cookie alone cannot be taken back, so it carries a server-side session id: a token of
controller.services.users (only its sha256 is stored), revoked on sign-out. A cookie copied before
sign-out then no longer signs anyone in.
"""

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Final, ParamSpec, TypeVar

from flask import Flask, Request, abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from controller import services
from controller.services.errors import AuthenticationFailed
from controller.services.scope import Scope
from controller.services.views import UserView
from web.api.guards import accepts_uploads
from web.context import WebContext, web_context

SESSION_LIFETIME: Final = timedelta(hours=12)
CSRF_FIELD: Final = "csrf_token"
P = ParamSpec("P")
R = TypeVar("R")


class _SessionInterface(SecureCookieSessionInterface):
    """The signed cookie session, marked Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure on https requests (or when configured); plain http on a village LAN keeps working."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def configure(app: Flask, context: WebContext) -> None:
    """Set the session secret (derived from the runtime's URL secret) and the cookie flags."""
    app.config.update(
        SECRET_KEY=hmac.new(context.asset_url_secret, b"loaxa web session", hashlib.sha256).digest(),
        SESSION_COOKIE_NAME="loaxa_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.session_interface = _SessionInterface()


def csrf_token() -> str:
    """The session's CSRF token, created on first use (every form carries it)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf(req: Request) -> None:
    """Refuse (400) a POST whose form does not carry this session's CSRF token."""
    expected = session.get("csrf")
    sent = req.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang và thử lại.")


def sign_in(user: UserView) -> None:
    """Start a fresh session for `user` (a new CSRF token too, so a planted one is useless)."""
    context = web_context()
    with context.db.session() as db:
        sid = services.issue_token(db, user, context.clock(), SESSION_LIFETIME)
    session.clear()
    session.permanent = True
    session["sid"] = sid
    csrf_token()


def sign_out() -> None:
    """End the session here and on the server: the same cookie, replayed, signs nobody in."""
    sid = session.get("sid")
    if isinstance(sid, str):
        with web_context().db.session() as db:
            services.revoke_token(db, sid)
    session.clear()


def current_user() -> UserView | None:
    """The signed-in, still active user of this request, or None."""
    if "ui_user" in g:
        user: UserView | None = g.ui_user
        return user
    sid = session.get("sid")
    user = None
    if isinstance(sid, str):
        context = web_context()
        try:
            with context.db.session() as db:
                user = services.user_for_token(db, sid, context.clock())
        except AuthenticationFailed:
            user = None  # signed out, expired, or the account was deactivated
    g.ui_user = user
    return user


def user() -> UserView:
    """The signed-in user inside a view guarded by `page`."""
    found = current_user()
    if found is None:
        abort(401)
    return found


def user_scope(db: Session, me: UserView) -> Scope:
    """`me`'s area and what lies under it, computed once per request (the page and the header's count).

    Above a commune it walks the area tree (a province: ~1,900 areas), so asking twice cost milliseconds.
    """
    cached: tuple[int, Scope] | None = g.get("ui_scope")
    if cached is None or cached[0] != me.id:
        cached = (me.id, services.scope_of(db, me))
        g.ui_scope = cached
    return cached[1]


def page(action: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Guard a view: signed in (else to the login page), allowed `action`, and CSRF on POST."""

    def wrap(view: Callable[P, R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            found = current_user()
            if found is None:
                return redirect(url_for("ui_auth.login", next=request.full_path.rstrip("?")))
            if request.method == "POST":
                check_csrf(request)
            if action is not None and not services.can(found, action):
                abort(403)
            return view(*args, **kwargs)

        # Forms post multipart/form-data: the API's body guard accepts it only on views marked so.
        return accepts_uploads(guarded)

    return wrap
