"""Migrated test databases on SQLite (a temp file) and PostgreSQL (a fresh database on the test server)."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from controller.db import Base, Database, upgrade

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped afterwards."""
    name = f"loaxa_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def _opened(url: str) -> Iterator[Database]:
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()


def server_url(request: pytest.FixtureRequest, kind: str) -> str | None:
    """The PostgreSQL server's URL when `kind` is postgres (starting the server on first use)."""
    return str(request.getfixturevalue("postgres_url")) if kind == "postgres" else None


@contextmanager
def migrated_database(kind: str, workdir: Path, postgres_server: str | None) -> Iterator[Database]:
    """An empty database of backend `kind` (sqlite or postgres), migrated to head, removed afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'loaxa.db'}"
        upgrade(url)
        with _opened(url) as db:
            yield db
        return
    assert postgres_server is not None
    with postgres_database(postgres_server) as url:
        upgrade(url)
        with _opened(url) as db:
            yield db


def clear_tables(db: Database) -> None:
    """Delete every row, children first, so the next test starts empty."""
    with db.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
