"""Bearer-token authentication and per-action permission checks for the REST API.

Owns reading the `Authorization` header and the 401 answers. Who may do what is decided by
`controller.services.users` (the permission table); this module only asks it.
"""

from typing import NoReturn

from apiflask import HTTPError, HTTPTokenAuth
from flask import g

from controller.services import users
from controller.services.errors import AuthenticationFailed
from controller.services.views import UserView
from web.api.errors import ApiError
from web.context import web_context

token_auth = HTTPTokenAuth(
    scheme="Bearer",
    description="A token from POST /api/v1/auth/token, sent as `Authorization: Bearer <token>`.",
)

_MISSING = (
    "missing bearer token: send 'Authorization: Bearer <token>' with a token from POST /api/v1/auth/token"
)


@token_auth.verify_token
def _verify(token: str) -> UserView | None:
    context = web_context()
    try:
        with context.db.session() as session:
            return users.user_for_token(session, token, context.clock())
    except AuthenticationFailed as exc:
        g.loaxa_auth_problem = exc.message
        return None


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
    users.require(user, action)
    return user
