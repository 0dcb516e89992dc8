"""`POST /api/v1/auth/token` and the sign-in rules every login form shares: throttling and lockout.

Owns the token endpoint and `sign_in`, which the HTML login calls too. Five failed sign-ins for one
username within 15 minutes lock that username for 15 minutes; twenty from one address lock the address
(a commune office shares one address behind NAT, so its limit is higher). A locked sign-in is answered
429 with Retry-After before the password is even checked. Failures and locks are logged and audited.
Passwords and tokens are checked and stored by controller.services.users.
"""

import logging
import math
import threading
from collections import deque
from datetime import datetime, timedelta

from apiflask import APIBlueprint
from flask import current_app, request

from controller import services
from controller.i18n import Message
from controller.services.errors import AuthenticationFailed
from controller.services.users import DEFAULT_TOKEN_TTL
from controller.services.views import UserView
from web.api.errors import ApiError
from web.api.schemas import TokenIn, TokenOut
from web.context import web_context

log = logging.getLogger(__name__)
bp = APIBlueprint("auth", __name__, tag="auth")

WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
MAX_FAILURES = {"user": 5, "address": 20}
_MAX_TRACKED = 10_000  # keys remembered at most, so a flood of random usernames cannot exhaust memory


class LoginThrottle:
    """Failed sign-ins per username and per client address, and the locks they lead to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._locked: dict[tuple[str, str], datetime] = {}

    def retry_after(self, keys: list[tuple[str, str]], now: datetime) -> timedelta | None:
        """How long the longest lock on any of `keys` still lasts, or None when none is locked."""
        with self._lock:
            waits = [until - now for key in keys if (until := self._locked.get(key)) and until > now]
        return max(waits) if waits else None

    def failed(self, keys: list[tuple[str, str]], now: datetime) -> list[tuple[str, str]]:
        """Count a failure against each key; return the keys this failure locked."""
        locked: list[tuple[str, str]] = []
        with self._lock:
            if len(self._failures) > _MAX_TRACKED:
                self._forget_old(now)
            for key in keys:
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while times and times[0] <= now - WINDOW:
                    times.popleft()
                if len(times) >= MAX_FAILURES[key[0]]:
                    self._locked[key] = now + LOCKOUT
                    times.clear()
                    locked.append(key)
        return locked

    def succeeded(self, username: str) -> None:
        """Forget the username's failures (not the address's: that would let one good login reset it)."""
        with self._lock:
            self._failures.pop(("user", username), None)

    def _forget_old(self, now: datetime) -> None:
        self._locked = {k: until for k, until in self._locked.items() if until > now}
        fresh = sorted(
            ((t[-1], k) for k, t in self._failures.items() if t and t[-1] > now - WINDOW), reverse=True
        )
        # Under a flood from many addresses, the newest half is kept; the locks stay either way.
        self._failures = {k: self._failures[k] for _, k in fresh[: _MAX_TRACKED // 2]}


class SignInLocked(ApiError):
    """A sign-in refused while its username or address is locked; `retry_after_s` says for how long."""

    def __init__(self, retry_after_s: int) -> None:
        minutes = math.ceil(retry_after_s / 60)
        super().__init__(
            429,
            Message(
                "Too many failed sign-ins for this account or address. Try again in {minutes} minute(s), "
                "or ask an administrator to check the account.",
                minutes=minutes,
            ),
            "too_many_attempts",
            headers={"Retry-After": str(retry_after_s)},
        )
        self.retry_after_s = retry_after_s


def _throttle() -> LoginThrottle:
    """The app's throttle (one per app, so tests and several apps in one process stay apart)."""
    throttle: LoginThrottle = current_app.extensions.setdefault("loaxa.login_throttle", LoginThrottle())
    return throttle


def _audit(username: str, now: datetime, action: str, detail: dict[str, object]) -> None:
    with web_context().db.session() as session:
        services.write_audit(
            session,
            now,
            actor=username[:64],
            action=action,
            entity="user",
            entity_id=username[:64],
            detail=detail,
        )


def sign_in(username: str, password: str) -> tuple[UserView, datetime]:
    """Check credentials under the throttle (the HTML login uses it too); return the user and the time.

    Raises SignInLocked (429) while locked, AuthenticationFailed (401) for wrong credentials.
    """
    context = web_context()
    now = context.clock()
    address = request.remote_addr or "unknown"
    keys = [("user", username.lower()), ("address", address)]
    wait = _throttle().retry_after(keys, now)
    if wait is not None:
        log.warning("sign-in refused while locked: user %r from %s", username, address)
        raise SignInLocked(math.ceil(wait.total_seconds()))
    try:
        with context.db.session() as session:
            user = services.authenticate(session, username, password)
    except AuthenticationFailed:
        locked = _throttle().failed(keys, now)
        _audit(username, now, "auth.failed", {"address": address})
        for kind, value in locked:
            log.warning("sign-in locked for %s %r for %s after repeated failures", kind, value, LOCKOUT)
            _audit(username, now, "auth.locked", {"locked": kind, "address": address})
        raise
    _throttle().succeeded(username.lower())
    return user, now


@bp.post("/auth/token")
@bp.input(TokenIn, arg_name="body")
@bp.output(TokenOut)
@bp.doc(
    summary="Sign in",
    responses={401: "Wrong username or password, or the account is disabled", 429: "Locked for a while"},
)
def issue_token(body: TokenIn) -> TokenOut:
    """Check the credentials and return a new bearer token with its expiry."""
    user, now = sign_in(body.username, body.password)
    with web_context().db.session() as session:
        token = services.issue_token(session, user, now, DEFAULT_TOKEN_TTL)
        services.write_audit(
            session, now, actor=user.username, action="auth.token", entity="user", entity_id=user.id
        )
    return TokenOut(token=token, expires_at=now + DEFAULT_TOKEN_TTL)
