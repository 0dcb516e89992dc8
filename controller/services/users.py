"""People and access: accounts, argon2 passwords, API tokens, roles and the permission table.

Owns users and api_tokens; must not know bulletins or devices beyond naming the actions on them.
"""

import functools
import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import ROLES, ApiToken, Area, Commune, User
from controller.i18n import Message
from controller.i18n.vocabulary import describe_role
from controller.services.audit import write_audit
from controller.services.errors import AuthenticationFailed, Conflict, Forbidden, NotFound, ValidationFailed
from controller.services.views import UserView

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD_LENGTH: Final = 8
DEFAULT_TOKEN_TTL: Final = timedelta(hours=12)

# Actions a role may take: "any" on every record, "own" only on records the user authored.
PERMISSIONS: Final[dict[str, dict[str, str]]] = {
    "viewer": {
        "bulletin.read": "any",
        "device.read": "any",
        "plays.read": "any",
        "station.read": "any",
        "stats.read": "any",
    },
    "operator": {
        "bulletin.read": "any",
        "bulletin.create": "any",
        "bulletin.submit": "own",
        "bulletin.cancel": "own",
        # A bulletin from above in the commune's inbox: schedule it, decline it, or settle a clash.
        "inbox.decide": "any",
        "device.read": "any",
        "plays.read": "any",
        "station.read": "any",
        "stats.read": "any",
    },
    "approver": {
        "bulletin.read": "any",
        "bulletin.approve": "any",
        "bulletin.reject": "any",
        # One-step emergency (docs/security.md): written, submitted and approved by one approver.
        "emergency.broadcast": "any",
        # A drill plays a short announced test at once on the targets (docs/cap.md).
        "drill.run": "any",
        "device.read": "any",
        "plays.read": "any",
        # Stations to relay (issue 13): admins and approvers add, change and retire them.
        "station.read": "any",
        "station.manage": "any",
        "stats.read": "any",
        # Speaking live (issue 13, item 3): admins and approvers.
        "live": "any",
    },
}
ACTIONS: Final[frozenset[str]] = frozenset(
    {action for table in PERMISSIONS.values() for action in table}
    | {"area.manage", "device.manage", "user.manage", "audit.read", "lexicon.manage", "cap.manage"}
)


def can(user: UserView, action: str, *, owner_id: int | None = None) -> bool:
    """Whether `user` may take `action` (on a record authored by `owner_id`, where that matters)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
    if not user.active:
        return False
    if user.role == "admin":
        return True
    scope = PERMISSIONS.get(user.role, {}).get(action)
    if scope == "own":
        return owner_id is None or owner_id == user.id
    return scope == "any"


def require(user: UserView, action: str, *, owner_id: int | None = None) -> None:
    """Raise Forbidden unless `user` may take `action`."""
    if not can(user, action, owner_id=owner_id):
        own = Message(" on a bulletin someone else wrote") if owner_id not in (None, user.id) else ""
        raise Forbidden(
            Message(
                "The account {user} ({role}) may not do this{own}. "
                "Ask an administrator to change your role or to do it for you.",
                user=user.username,
                role=describe_role(user.role),
                own=own,
            )
        )


def view_of(user: User) -> UserView:
    """The read model of a user row."""
    return UserView(
        id=user.id, username=user.username, role=user.role, commune_id=user.commune_id, active=user.active,
        area_code=user.area_code,
    )  # fmt: skip


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the username is unknown, so a wrong name costs as much as a wrong password."""
    return hasher.hash("loaxa-no-such-user")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    now: datetime,
    *,
    commune_id: str | None = None,
    area: str | None = None,
    actor: str | None = None,
) -> UserView:
    """Create an active user with an argon2 password hash, working in `area` (or in `commune_id`'s)."""
    if not _USERNAME.fullmatch(username):
        raise ValidationFailed(
            Message(
                "The username {username} is not valid. Use 2–64 lowercase letters without accents, digits, "
                "'.', '_' or '-', starting with a letter or digit.",
                username=repr(username)[:70],
            )
        )
    if role not in ROLES:
        raise ValidationFailed(
            Message(
                "The role {role} is not known. Choose one of: {allowed}.",
                role=repr(role)[:40],
                allowed=", ".join(ROLES),
            )
        )
    check_password(password)
    if commune_id is not None and session.get(Commune, commune_id) is None:
        raise NotFound(
            Message(
                "The commune {commune} does not exist. Create it first, or leave it empty.",
                commune=commune_id,
            )
        )
    if area is not None:
        commune_id = commune_for_area(session, area)
    elif commune_id is not None:
        area = session.scalar(select(Commune.area_code).where(Commune.id == commune_id))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(Message("The username {username} is taken. Choose another one.", username=username))
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        commune_id=commune_id,
        area_code=area,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    write_audit(
        session,
        now,
        actor=actor,
        action="user.create",
        entity="user",
        entity_id=user.id,
        detail={"username": username, "role": role, "area": area},
    )
    log.info("user created: %r (%s, area %s)", username, role, area)
    return view_of(user)


def check_password(password: str) -> None:
    """Refuse a password shorter than the minimum."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Mật khẩu quá ngắn: dùng ít nhất {MIN_PASSWORD_LENGTH} ký tự (the password is too short)."
        )


def commune_for_area(session: Session, area: str) -> str | None:
    """The commune id of a commune area; None for a province or district; refuses other areas."""
    row = session.get(Area, area)
    if row is None:
        raise NotFound(f"Không có địa bàn mã {area!r:.40}; xem danh sách bằng `loaxa area list`.")
    if row.retired:
        raise ValidationFailed(f"Địa bàn {area} đã ngừng hoạt động: chọn địa bàn khác.")
    if row.level not in ("province", "district", "commune"):
        raise ValidationFailed(
            f"Người dùng thuộc một tỉnh, huyện hoặc xã, không thuộc {row.level} {area}: chọn xã của thôn đó."
        )
    if row.level != "commune":
        return None
    return session.scalar(select(Commune.id).where(Commune.area_code == area))


def hash_password(password: str) -> str:
    """The argon2 hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_user(session: Session, username: str) -> UserView:
    """A user by username."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(
            Message(
                "There is no account named {username}. Check the name in the list of users.",
                username=username,
            )
        )
    return view_of(user)


def list_users(session: Session) -> list[UserView]:
    """Every user, by username."""
    return [view_of(u) for u in session.scalars(select(User).order_by(User.username))]


def set_user_active(
    session: Session, username: str, active: bool, now: datetime, *, actor: str | None
) -> UserView:
    """Enable or disable a user; disabling also revokes the user's tokens."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(
            Message(
                "There is no account named {username}. Check the name in the list of users.",
                username=username,
            )
        )
    user.active = active
    if not active:
        for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
            token.revoked = True
    write_audit(
        session,
        now,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        entity="user",
        entity_id=user.id,
        detail={"username": username},
    )
    return view_of(user)


def authenticate(session: Session, username: str, password: str) -> UserView:
    """The active user with this username and password, or AuthenticationFailed."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(_hasher), password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.active:
        log.info("sign-in refused for %r", username)
        raise AuthenticationFailed(
            Message("Wrong username or password, or the account is disabled. Check them and try again.")
        )
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return view_of(user)


def issue_token(session: Session, user: UserView, now: datetime, ttl: timedelta = DEFAULT_TOKEN_TTL) -> str:
    """A new bearer token for `user`, valid for `ttl`; only its sha256 is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_sha256=_hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + ttl,
            revoked=False,
        )
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str, now: datetime) -> UserView:
    """The active user a valid (known, unexpired, unrevoked) token belongs to."""
    # One statement: every API call and UI page (a UI session is a token too) runs this.
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_sha256 == _hash_token(token))
    ).one_or_none()
    if found is None or found[0].revoked:
        raise AuthenticationFailed(Message("This sign-in is no longer valid. Sign in again."))
    row, user = found
    if row.expires_at <= now:
        raise AuthenticationFailed(Message("This sign-in has expired. Sign in again."))
    if not user.active:
        raise AuthenticationFailed(Message("This account is disabled. Ask an administrator to enable it."))
    return view_of(user)


def revoke_token(session: Session, token: str) -> None:
    """Revoke a token (signing out); an unknown token is ignored."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _hash_token(token)))
    if row is not None:
        row.revoked = True
