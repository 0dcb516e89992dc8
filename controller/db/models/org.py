"""Tables for the area tree, the commune, its villages, the people who use loaxa and their API tokens.

Owns the shape of these tables only; rules (roles, passwords, permissions) live in controller.services.users,
the rules of the area tree in controller.services.areas.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.base import Base, check_in

ROLES: tuple[str, ...] = ("operator", "approver", "admin", "viewer")
# The levels stored in `areas`, top down; the level below a village, the cluster, is a device.
AREA_LEVELS: tuple[str, ...] = ("province", "district", "commune", "village")


class Area(Base):
    """An administrative area (tỉnh, huyện, xã, thôn/bản) under its parent, by its official code.

    A commune and a village each have one row in `communes` and `villages` too, linked by `area_code`:
    those tables keep what only they hold (a commune's time zone, a village's languages).
    """

    __tablename__ = "areas"
    __table_args__ = (CheckConstraint(check_in("level", AREA_LEVELS), name="level"),)

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class Commune(Base):
    """A commune (xã) running its own loudspeaker system."""

    __tablename__ = "communes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), unique=True)
    created_at: Mapped[datetime]


class Village(Base):
    """A village (bản / thôn) and the languages its listeners speak, Vietnamese included."""

    __tablename__ = "villages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune_id: Mapped[str] = mapped_column(ForeignKey("communes.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]]
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), unique=True)
    created_at: Mapped[datetime]


class User(Base):
    """A person who signs in: operator, approver, admin or viewer."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(check_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    commune_id: Mapped[str | None] = mapped_column(ForeignKey("communes.id"))
    # The area the user works in (DESIGN §11): they see and target only what lies under it. None: the
    # whole installation. `commune_id` is kept in step (the commune at or above the area, if any).
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class PasswordReset(Base):
    """A one-time code an admin issued so that a user can set a new password; only its sha256 is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token for the REST API; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(default=False)
