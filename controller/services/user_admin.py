"""Administering people (issue 16): roles, areas, disabling, a password change, and one-time reset codes.

An admin manages only the users whose area lies under their own (DESIGN §11), and may give only areas
under their own. A user changes their own password with the old one; an admin who cannot tell a user's
password issues a one-time code (valid 24 hours, used once, only its sha256 stored), with which the user
sets a new password; every reset or change signs the user out everywhere. Owns these rules; must not
commit or know HTTP.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller.db.models import ROLES, ApiToken, PasswordReset, User
from controller.services import area_tree
from controller.services.audit import write_audit
from controller.services.errors import (
    AuthenticationFailed,
    NotFound,
    OutOfScope,
    ValidationFailed,
    WrongPassword,
)
from controller.services.scope import user_area
from controller.services.users import (
    check_password,
    commune_for_area,
    hash_password,
    require,
    verify_password,
    view_of,
)
from controller.services.views import UserView

log = logging.getLogger(__name__)

RESET_TTL: Final = timedelta(hours=24)


@dataclass(frozen=True)
class ResetCode:
    """A one-time password reset code, shown once to the admin who asked for it."""

    username: str
    code: str
    expires_at: datetime


def _sha(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def manages_area(session: Session, admin: UserView, area: str | None) -> bool:
    """Whether `admin` may manage people of `area` (None: the whole installation)."""
    own = user_area(session, admin)
    if own is None:
        return True
    return area is not None and area in area_tree.subtree(session, own)


def users_managed(session: Session, admin: UserView) -> list[UserView]:
    """The users an admin manages (under their area), by username."""
    require(admin, "user.manage")
    own = user_area(session, admin)
    people = [view_of(u) for u in session.scalars(select(User).order_by(User.username))]
    if own is None:
        return people
    under = area_tree.subtree(session, own)
    return [p for p in people if user_area(session, p) in under]


def _managed(session: Session, admin: UserView, user_id: int) -> User:
    require(admin, "user.manage")
    user = session.get(User, user_id)
    if user is None or not manages_area(session, admin, user_area(session, view_of(user))):
        raise NotFound(f"Không có người dùng #{user_id} trong địa bàn bạn quản lý; tải lại danh sách.")
    return user


def check_area_given(session: Session, admin: UserView, area: str | None) -> None:
    """Refuse an area outside the admin's own (a commune's admin cannot make a province user)."""
    if not manages_area(session, admin, area):
        raise OutOfScope(
            f"Không thể giao địa bàn {area or 'toàn hệ thống'}: nằm ngoài địa bàn "
            f"{user_area(session, admin)} bạn quản lý. Chọn một địa bàn thuộc quyền bạn."
        )


def change_user(
    session: Session,
    admin: UserView,
    user_id: int,
    now: datetime,
    *,
    role: str | None = None,
    area: str | None = None,
    active: bool | None = None,
) -> UserView:
    """Change a user's role, area or whether they may sign in (disabling revokes their tokens)."""
    user = _managed(session, admin, user_id)
    changed: dict[str, object] = {}
    if role is not None and role != user.role:
        if role not in ROLES:
            raise ValidationFailed(f"Vai trò {role!r:.40} không hợp lệ: chọn một trong {', '.join(ROLES)}.")
        changed["role"], user.role = role, role
    if area is not None and area != user.area_code:
        check_area_given(session, admin, area)
        user.commune_id, user.area_code = commune_for_area(session, area), area
        changed["area"] = area
    if active is not None and active != user.active:
        if not active and user.id == admin.id:
            raise ValidationFailed("Bạn không thể tự khoá tài khoản của mình; nhờ một quản trị khác.")
        user.active = active
        changed["active"] = active
        if not active:
            _sign_out(session, user.id)
    if changed:
        session.flush()
        write_audit(
            session, now, actor=admin.username, action="user.change", entity="user", entity_id=user.id,
            detail={"username": user.username, **changed},
        )  # fmt: skip
        log.info("user %r changed by %s: %s", user.username, admin.username, ", ".join(changed))
    return view_of(user)


def _sign_out(session: Session, user_id: int) -> None:
    session.execute(update(ApiToken).where(ApiToken.user_id == user_id).values(revoked=True))


def change_password(session: Session, me: UserView, old: str, new: str, now: datetime) -> None:
    """The user sets a new password, giving the old one; their other sessions end."""
    user = session.get(User, me.id)
    if user is None or not user.active or not verify_password(user.password_hash, old):
        raise WrongPassword("Mật khẩu hiện tại không đúng: nhập lại mật khẩu đang dùng.")
    check_password(new)
    if new == old:
        raise ValidationFailed("Mật khẩu mới trùng mật khẩu cũ: chọn một mật khẩu khác.")
    user.password_hash = hash_password(new)
    _sign_out(session, user.id)
    write_audit(session, now, actor=me.username, action="user.password", entity="user", entity_id=user.id)


def issue_reset(session: Session, admin: UserView, user_id: int, now: datetime) -> ResetCode:
    """A one-time code for the user to set a new password; earlier unused codes stop working."""
    user = _managed(session, admin, user_id)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(expires_at=now)
    )
    code = secrets.token_urlsafe(12)
    session.add(
        PasswordReset(
            user_id=user.id, code_sha256=_sha(code), created_by=admin.username, created_at=now,
            expires_at=now + RESET_TTL, used_at=None,
        )
    )  # fmt: skip
    session.flush()
    write_audit(
        session, now, actor=admin.username, action="user.reset_issued", entity="user", entity_id=user.id,
        detail={"username": user.username},
    )  # fmt: skip
    return ResetCode(username=user.username, code=code, expires_at=now + RESET_TTL)


def redeem_reset(session: Session, username: str, code: str, new: str, now: datetime) -> UserView:
    """Set a new password with a valid, unused, unexpired code (which is then spent)."""
    row = session.scalar(select(PasswordReset).where(PasswordReset.code_sha256 == _sha(code)))
    user = None if row is None else session.get(User, row.user_id)
    if row is None or user is None or user.username != username:
        raise AuthenticationFailed("Mã đặt lại mật khẩu không đúng: kiểm tra mã hoặc xin quản trị mã mới.")
    if row.used_at is not None:
        raise AuthenticationFailed("Mã này đã được dùng: xin quản trị một mã mới.")
    if row.expires_at <= now:
        raise AuthenticationFailed("Mã này đã hết hạn: xin quản trị một mã mới.")
    if not user.active:
        raise AuthenticationFailed("Tài khoản đang bị khoá: nhờ quản trị mở khoá trước.")
    check_password(new)
    row.used_at = now
    user.password_hash = hash_password(new)
    _sign_out(session, user.id)
    write_audit(session, now, actor=username, action="user.reset_used", entity="user", entity_id=user.id)
    return view_of(user)


def user_by_id(session: Session, admin: UserView, user_id: int) -> UserView:
    """One user the admin manages."""
    return view_of(_managed(session, admin, user_id))


def user_id_of(session: Session, username: str) -> int:
    """The id of a user by username."""
    found = session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise NotFound(f"Không có người dùng {username!r:.40}; xem danh sách bằng `loaxa user list`.")
    return found
