"""Fixtures for service tests: a migrated database per module and backend, an emptied session per test,
and a small commune to work in."""

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from controller.db import Database, User
from controller.services import UserView, create_commune, create_village, provision_device, users
from controller.services.users import view_of
from tests.db.support import BACKENDS, clear_tables, migrated_database, server_url

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
PASSWORD = "mật-khẩu-demo"
# The real argon2id, with the cost turned down so the suite stays fast (the defaults take ~0.5 s a hash here).
CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD_HASH = CHEAP_ARGON2.hash(PASSWORD)


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with the cheap argon2id parameters."""
    monkeypatch.setattr(users, "_hasher", CHEAP_ARGON2)


@pytest.fixture(scope="session")
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Database]]:
    """Per backend, one private database migrated to head for all service tests (made on first use).

    Every test leaves it empty (see `session`), so sharing it keeps tests apart while paying for the
    migration and a new engine once per run instead of once per module.
    """
    # Ask for the server before entering the stack, so pytest tears it down after our databases are
    # dropped (session fixtures end in the reverse order of their set-up).
    postgres = server_url(request, "postgres") if _runs_postgres(request) else None
    with ExitStack() as stack:

        class Databases(dict[str, Database]):
            def __missing__(self, kind: str) -> Database:
                workdir = tmp_path_factory.mktemp(kind)
                self[kind] = stack.enter_context(
                    migrated_database(kind, workdir, postgres if kind == "postgres" else None)
                )
                return self[kind]

        yield Databases()


def _runs_postgres(request: pytest.FixtureRequest) -> bool:
    return any("[postgres]" in item.nodeid for item in request.session.items)


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest, databases: dict[str, Database]) -> Database:
    """The migrated database of one backend."""
    return databases[request.param]


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session on an empty database; every row is deleted after the test."""
    with database.sessions() as s:
        yield s
        s.rollback()
    clear_tables(database)


@dataclass(frozen=True)
class World:
    """Commune `tl` with villages `lim` (vi, thai) and `cai` (vi, mong), devices and one user per role."""

    operator: UserView
    operator2: UserView
    approver: UserView
    admin: UserView
    viewer: UserView


def add_user(session: Session, username: str, role: str, commune_id: str | None = "tl") -> UserView:
    """A user row with the shared test password, bypassing the (slow) argon2 hashing."""
    user = User(
        username=username,
        password_hash=PASSWORD_HASH,
        role=role,
        commune_id=commune_id,
        active=True,
        created_at=T0,
    )
    session.add(user)
    session.flush()
    return view_of(user)


@pytest.fixture
def world(session: Session) -> World:
    """Commune tl: villages lim (devices tl-c01, tl-c02), cai (tl-c03), empty (none); five users."""
    create_commune(session, "tl", "Xã Tú Lệ", T0)
    create_village(session, "lim", T0, name="Bản Lìm", commune_id="tl", languages=["vi", "thai"])
    create_village(session, "cai", T0, name="Giàng Cài", commune_id="tl", languages=["vi", "mong"])
    create_village(session, "empty", T0, name="Bản Trống", commune_id="tl", languages=["vi"])
    for device_id, village in (("tl-c01", "lim"), ("tl-c02", "lim"), ("tl-c03", "cai")):
        provision_device(session, device_id, T0, name=f"Cụm {device_id}", village_id=village)
    return World(
        operator=add_user(session, "op", "operator"),
        operator2=add_user(session, "op2", "operator"),
        approver=add_user(session, "boss", "approver"),
        admin=add_user(session, "root", "admin"),
        viewer=add_user(session, "eye", "viewer"),
    )
