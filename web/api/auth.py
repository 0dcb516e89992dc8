"""`POST /api/v1/auth/token`: trade a username and password for a bearer token.

Owns the token endpoint only; passwords and tokens are checked and stored by controller.services.users.
"""

from apiflask import APIBlueprint

from controller import services
from controller.services.users import DEFAULT_TOKEN_TTL
from web.api.schemas import TokenIn, TokenOut
from web.context import web_context

bp = APIBlueprint("auth", __name__, tag="auth")


@bp.post("/auth/token")
@bp.input(TokenIn, arg_name="body")
@bp.output(TokenOut)
@bp.doc(summary="Sign in", responses={401: "Wrong username or password, or the account is disabled"})
def issue_token(body: TokenIn) -> TokenOut:
    """Check the credentials and return a new bearer token with its expiry."""
    context = web_context()
    now = context.clock()
    with context.db.session() as session:
        user = services.authenticate(session, body.username, body.password)
        token = services.issue_token(session, user, now, DEFAULT_TOKEN_TTL)
    return TokenOut(token=token, expires_at=now + DEFAULT_TOKEN_TTL)
