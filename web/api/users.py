"""`/api/v1/users`: people with a role and an area (DESIGN §8, §11), password change and one-time resets.

Owns the HTTP side of user administration and the request and response shapes it alone uses. Admins
manage only the users under their area (controller.services.user_admin); any signed-in user changes
their own password; `POST /users/reset` takes a one-time code and needs no sign-in.
"""

from datetime import datetime
from typing import Literal, Self

from apiflask import APIBlueprint
from pydantic import BaseModel, ConfigDict, Field, model_validator

from controller import services
from controller.services import user_admin
from controller.services.views import UserView
from web.api.security import current_user, permit, token_auth
from web.context import web_context

bp = APIBlueprint("users", __name__, tag="users")
Role = Literal["operator", "approver", "admin", "viewer"]
_REFUSED = {
    403: "Outside the admin's area (out_of_scope)",
    404: "No such user under the admin's area, or no such area",
    409: "The username is taken",
    422: "A field is not valid",
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserIn(_In):
    """A user to create."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    area: str | None = Field(
        None, description="Code of the province, district or commune they work in; default: the admin's."
    )


class UserPatch(_In):
    """A new role, area, or active flag (any of them)."""

    role: Role | None = None
    area: str | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set & {"role", "area", "active"}:
            raise ValueError("give a new role, area or active flag")
        return self


class PasswordIn(_In):
    """The current password and the new one."""

    old_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ResetIn(_In):
    """A one-time reset code, the user it was issued for and the new password."""

    username: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    new_password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    """A user."""

    id: int
    username: str
    role: str
    area: str | None
    commune_id: str | None
    active: bool


class UserList(BaseModel):
    """Users, by username."""

    items: list[UserOut]


class ResetOut(BaseModel):
    """A one-time code (shown once), when it expires, and the page where the user uses it."""

    username: str
    code: str
    expires_at: datetime
    url: str


class DoneOut(BaseModel):
    """What was done, in Vietnamese."""

    message: str


def _out(view: UserView, area: str | None) -> UserOut:
    return UserOut(
        id=view.id, username=view.username, role=view.role, area=area, commune_id=view.commune_id,
        active=view.active,
    )  # fmt: skip


@bp.get("/users")
@bp.auth_required(token_auth)
@bp.output(UserList)
@bp.doc(summary="List the users under the admin's area (admin)")
def list_all() -> UserList:
    """Users under the admin's area."""
    admin = permit("user.manage")
    with web_context().db.session() as session:
        people = user_admin.users_managed(session, admin)
        return UserList(items=[_out(p, services.user_area(session, p)) for p in people])


@bp.post("/users")
@bp.auth_required(token_auth)
@bp.input(UserIn, arg_name="body")
@bp.output(UserOut, status_code=201)
@bp.doc(summary="Create a user with a role and an area under the admin's (admin)", responses=_REFUSED)
def create(body: UserIn) -> UserOut:
    """Create an active user; without `area`, in the admin's own."""
    admin = permit("user.manage")
    context = web_context()
    with context.db.session() as session:
        area = body.area if body.area is not None else services.user_area(session, admin)
        user_admin.check_area_given(session, admin, area)
        view = services.create_user(
            session, body.username, body.password, body.role, context.clock(), area=area,
            actor=admin.username,
        )  # fmt: skip
        return _out(view, area)


@bp.patch("/users/<int:user_id>")
@bp.auth_required(token_auth)
@bp.input(UserPatch, arg_name="body")
@bp.output(UserOut)
@bp.doc(summary="Change a user's role, area or active flag (admin)", responses=_REFUSED)
def change(user_id: int, body: UserPatch) -> UserOut:
    """Apply the given changes in one transaction; disabling signs the user out everywhere."""
    admin = permit("user.manage")
    context = web_context()
    with context.db.session() as session:
        view = user_admin.change_user(
            session, admin, user_id, context.clock(), role=body.role, area=body.area, active=body.active
        )
        return _out(view, services.user_area(session, view))


@bp.post("/users/<int:user_id>/reset")
@bp.auth_required(token_auth)
@bp.output(ResetOut, status_code=201)
@bp.doc(summary="Issue a one-time password reset code for a user (admin)", responses=_REFUSED)
def reset(user_id: int) -> ResetOut:
    """A code valid for 24 hours, used once; only its hash is stored."""
    admin = permit("user.manage")
    context = web_context()
    with context.db.session() as session:
        code = user_admin.issue_reset(session, admin, user_id, context.clock())
    return ResetOut(
        username=code.username, code=code.code, expires_at=code.expires_at,
        url=f"/dat-lai-mat-khau?u={code.username}",
    )  # fmt: skip


@bp.post("/users/me/password")
@bp.auth_required(token_auth)
@bp.input(PasswordIn, arg_name="body")
@bp.output(DoneOut)
@bp.doc(
    summary="Change one's own password, giving the current one", responses={422: "Wrong current password"}
)
def change_password(body: PasswordIn) -> DoneOut:
    """Set a new password; every session of the user ends (sign in again)."""
    me = current_user()
    context = web_context()
    with context.db.session() as session:
        user_admin.change_password(session, me, body.old_password, body.new_password, context.clock())
    return DoneOut(message="Đã đổi mật khẩu. Hãy đăng nhập lại bằng mật khẩu mới.")


@bp.post("/users/reset")
@bp.input(ResetIn, arg_name="body")
@bp.output(DoneOut)
@bp.doc(
    summary="Set a new password with a one-time code from an admin (no sign-in)", responses={401: "Bad code"}
)
def redeem(body: ResetIn) -> DoneOut:
    """Spend the code and set the new password."""
    context = web_context()
    with context.db.session() as session:
        user_admin.redeem_reset(session, body.username, body.code, body.new_password, context.clock())
    return DoneOut(message="Đã đặt mật khẩu mới. Hãy đăng nhập bằng mật khẩu mới.")
