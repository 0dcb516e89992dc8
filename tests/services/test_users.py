"""Accounts, argon2 passwords, tokens and the permission table."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db import ApiToken, User
from controller.services import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    authenticate,
    can,
    create_user,
    issue_token,
    list_audit,
    require,
    revoke_token,
    set_user_active,
    user_for_token,
)
from tests.services.conftest import T0, World, add_user


def test_create_and_authenticate(session: Session) -> None:
    user = create_user(session, "canbo", "mật khẩu dài", "operator", T0)
    assert (user.username, user.role, user.active) == ("canbo", "operator", True)
    stored = session.scalars(select(User.password_hash).where(User.username == "canbo")).one()
    assert stored.startswith("$argon2id$")
    assert authenticate(session, "canbo", "mật khẩu dài") == user
    with pytest.raises(AuthenticationFailed, match="Sai tên đăng nhập hoặc mật khẩu"):
        authenticate(session, "canbo", "sai")
    with pytest.raises(AuthenticationFailed):
        authenticate(session, "nobody", "mật khẩu dài")
    assert [a.action for a in list_audit(session, entity="user")] == ["user.create"]


def test_create_user_refuses_bad_input_with_clear_messages(session: Session) -> None:
    with pytest.raises(ValidationFailed, match=r"Tên đăng nhập 'Bad Name' không hợp lệ"):
        create_user(session, "Bad Name", "long enough", "operator", T0)
    with pytest.raises(
        ValidationFailed, match=r"Vai trò 'chief' không có. Hãy chọn một trong: operator, approver"
    ):
        create_user(session, "ok", "long enough", "chief", T0)
    with pytest.raises(ValidationFailed, match="Mật khẩu quá ngắn: dùng ít nhất 8 ký tự"):
        create_user(session, "ok", "short", "operator", T0)
    with pytest.raises(NotFound, match="Không có địa bàn mã '99999'"):
        create_user(session, "ok", "long enough", "operator", T0, area="99999")
    with pytest.raises(NotFound, match="Chưa có xã nowhere"):
        create_user(session, "ok", "long enough", "operator", T0, commune_id="nowhere")
    add_user(session, "taken", "viewer", commune_id=None)
    with pytest.raises(Conflict, match="Tên đăng nhập taken đã có người dùng"):
        create_user(session, "taken", "long enough", "viewer", T0)


def test_tokens_expire_and_revoke(session: Session, world: World) -> None:
    token = issue_token(session, world.operator, T0, timedelta(hours=1))
    assert session.scalars(select(ApiToken.token_sha256)).one() != token  # only the hash is stored
    assert user_for_token(session, token, T0 + timedelta(minutes=59)) == world.operator
    with pytest.raises(AuthenticationFailed, match="đã hết hạn"):
        user_for_token(session, token, T0 + timedelta(hours=1))
    with pytest.raises(AuthenticationFailed, match="không còn hiệu lực"):
        user_for_token(session, "not-a-token", T0)
    revoke_token(session, token)
    with pytest.raises(AuthenticationFailed, match="không còn hiệu lực"):
        user_for_token(session, token, T0)


def test_disabled_user_cannot_sign_in_or_use_tokens(session: Session, world: World) -> None:
    token = issue_token(session, world.viewer, T0)
    disabled = set_user_active(session, "eye", False, T0, actor="root")
    assert not disabled.active
    with pytest.raises(AuthenticationFailed):
        user_for_token(session, token, T0)
    with pytest.raises(AuthenticationFailed):
        authenticate(session, "eye", "mật-khẩu-demo")
    assert not can(disabled, "bulletin.read")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {"bulletin.read", "device.read", "plays.read", "station.read", "stats.read"}),
        (
            "operator",
            {
                "bulletin.read",
                "bulletin.create",
                "bulletin.submit",
                "bulletin.cancel",
                "inbox.decide",
                "device.read",
                "plays.read",
                "station.read",
                "stats.read",
            },
        ),
        (
            "approver",
            {
                "bulletin.read",
                "bulletin.approve",
                "bulletin.reject",
                "emergency.broadcast",
                "drill.run",
                "device.read",
                "plays.read",
                "station.read",
                "station.manage",
                "stats.read",
                "live",
            },
        ),
        ("admin", None),
    ],
)
def test_permission_table(session: Session, world: World, role: str, allowed: set[str] | None) -> None:
    user = {
        "viewer": world.viewer,
        "operator": world.operator,
        "approver": world.approver,
        "admin": world.admin,
    }[role]
    from controller.services.users import ACTIONS

    expected = ACTIONS if allowed is None else allowed
    assert {a for a in ACTIONS if can(user, a)} == expected


def test_operators_act_only_on_their_own_bulletins(session: Session, world: World) -> None:
    assert can(world.operator, "bulletin.cancel", owner_id=world.operator.id)
    assert not can(world.operator, "bulletin.cancel", owner_id=world.operator2.id)
    assert can(world.admin, "bulletin.cancel", owner_id=world.operator2.id)
    with pytest.raises(
        Forbidden, match=r"Tài khoản op \(cán bộ đài\) không được làm việc này với bản tin người khác soạn"
    ):
        require(world.operator, "bulletin.submit", owner_id=world.operator2.id)
    with pytest.raises(ValueError, match="unknown action"):
        can(world.operator, "bulletin.explode")
