"""Bearer-token authentication, per-action permission checks and the request audit trail of the API.

Owns reading the `Authorization` header, the 401 answers, recording which permission a request was
checked against (`g.loaxa_permission`, which the role × endpoint tests read), and one audit entry for
every successful state-changing API request (who called what; the services add what changed). Who may
do what is decided by `controller.services.users` (the permission table); this module only asks it.
"""

import logging
from typing import NoReturn

from apiflask import HTTPError, HTTPTokenAuth
from flask import Flask, Response, g, request

from controller import services
from controller.i18n import Message
from controller.services import users
from controller.services.errors import AuthenticationFailed, Forbidden
from controller.services.views import UserView
from web.api.errors import ApiError
from web.context import web_context

log = logging.getLogger(__name__)

token_auth = HTTPTokenAuth(
    scheme="Bearer",
    description="A token from POST /api/v1/auth/token, sent as `Authorization: Bearer <token>`.",
)

_MISSING = Message(
    "Sign in first: send 'Authorization: Bearer <token>' with a token from POST /api/v1/auth/token."
)
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _verify(token: str) -> UserView | None:
    context = web_context()
    try:
        with context.db.session() as session:
            return users.user_for_token(session, token, context.clock())
    except AuthenticationFailed as exc:
        g.loaxa_auth_problem = exc.text
        return None


# Registered by a call, not as a decorator: flask-httpauth's decorator is untyped (mypy strict).
token_auth.verify_token(_verify)


@token_auth.error_processor
def _auth_error(error: HTTPError) -> NoReturn:
    message = g.get("loaxa_auth_problem", _MISSING)
    raise ApiError(error.status_code, message, headers={"WWW-Authenticate": 'Bearer realm="loaxa"'})


def current_user() -> UserView:
    """The signed-in user of this request (inside a view protected by `token_auth`)."""
    user = token_auth.current_user
    if not isinstance(user, UserView):
        raise ApiError(401, _MISSING)
    return user


def permit(action: str) -> UserView:
    """The signed-in user, if their role may take `action` at all; otherwise Forbidden (403)."""
    user = current_user()
    g.loaxa_permission = action
    try:
        users.require(user, action)
    except Forbidden:
        log.warning(
            "denied %s to %s (%s) on %s %s", action, user.username, user.role, request.method, request.path
        )
        raise
    g.loaxa_user = user
    return user


def _audit_request(response: Response) -> Response:
    """Record a successful change made through the API, after the handler committed it."""
    user = g.get("loaxa_user")
    if request.method not in _CHANGES or not isinstance(user, UserView) or response.status_code >= 400:
        return response
    context = web_context()
    try:
        with context.db.session() as session:
            services.write_audit(
                session,
                context.clock(),
                actor=user.username,
                action=f"api.{request.endpoint}"[:64],
                entity="api",
                entity_id=request.path[:64],
                detail={"method": request.method, "status": response.status_code},
            )
    except Exception:
        # The change itself is committed: answering 500 would make the client repeat it.
        log.exception("audit entry for %s %s by %s not written", request.method, request.path, user.username)
    return response


def register(app: Flask) -> None:
    """Install the request audit trail."""
    app.after_request(_audit_request)
