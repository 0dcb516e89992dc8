"""The migration builds exactly the models' schema; engines and the UTC column type behave."""

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from controller.db import Area, AuditEntry, Base, Commune, Database, Village, make_engine, upgrade

T0 = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


def test_migration_matches_models(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == "0012"
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_times_come_back_aware_utc(database: Database) -> None:
    hanoi = timezone(timedelta(hours=7))
    with database.session() as session:
        at = datetime(2026, 11, 22, 12, 0, tzinfo=hanoi)
        session.add(Area(code="c-utc", name="Xã Thử", level="commune", retired=False, created_at=at))
        session.flush()
        session.add(Commune(id="c-utc", name="Xã Thử", area_code="c-utc", created_at=at))
    with database.session() as session:
        stored = session.scalars(select(Commune.created_at).where(Commune.id == "c-utc")).one()
        assert stored == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
        assert stored.tzinfo == UTC
        session.delete(session.get(Commune, "c-utc"))
        session.flush()
        session.delete(session.get(Area, "c-utc"))


def test_naive_times_are_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), database.session() as session:
        session.add(Commune(id="c-naive", name="x", area_code="c-naive", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001
        session.flush()


def test_session_commits_on_success_and_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(AuditEntry(at=T0, actor="t", action="x", entity="e", entity_id="1", detail={}))
        session.flush()
        raise RuntimeError("boom")
    with database.session() as session:
        assert session.scalars(select(AuditEntry)).all() == []
        session.add(
            AuditEntry(at=T0, actor="t", action="x", entity="e", entity_id="1", detail={"ký tự": "Tú Lệ"})
        )
    with database.session() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.detail == {"ký tự": "Tú Lệ"}
        session.delete(entry)


def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Village(id="v", commune_id="nowhere", name="Bản Lìm", languages=["vi"], created_at=T0))
        session.flush()


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    finally:
        engine.dispose()


def test_upgrade_works_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    upgrade(url)
    upgrade(url)  # a second run is a no-op
    engine = make_engine(url)
    try:
        assert "bulletins" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    # nothing but the database lands in the working directory (no alembic.ini needed there)
    assert set(os.listdir(tmp_path)) <= {"elsewhere.db", "elsewhere.db-wal", "elsewhere.db-shm"}
