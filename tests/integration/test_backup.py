"""`loaxa backup` of a running controller, `loaxa restore` into an empty data directory: the restored
controller serves the same bulletins and as-run log, and its agents come back to it.
"""

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from controller import services
from controller.backup import PLAN_VERSION_GAP
from controller.config import load_settings
from controller.db import Database, upgrade
from loaxa.cli import main as loaxa
from loaxa.ops import PLAN_VERSION_GAP as CLI_GAP
from loaxa.runtime import Controller
from tests.integration.conftest import DEMO_PASSWORD, RULES, Api, deployed, wait_for
from tests.integration.test_scheduling import AGENT, NORMAL, plays, publish, until_window_end


def _listing(api: Api) -> tuple[list[object], list[object]]:
    status, bulletins = api.call("GET", "/bulletins", user="operator")
    assert status == 200
    return bulletins["items"], plays_all(api)


def plays_all(api: Api) -> list[object]:
    status, body = api.call("GET", "/plays", user="operator")
    assert status == 200
    return list(body["items"])


def test_a_backup_restored_into_an_empty_data_dir_serves_the_same_and_finds_its_agents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "backups" / "loaxa.tar.gz"
    with deployed(tmp_path, opens_in_s=10, length_s=40) as deployment:
        api = deployment.api
        deployment.start_agent(AGENT)
        bulletin_id = publish(api, NORMAL)
        wait_for(
            "the play in the as-run log",
            lambda: [p for p in plays(api, bulletin_id) if p["status"] == "finished"],
            timeout=until_window_end(deployment),
        )
        settings = deployment.controller.settings
        monkeypatch.setenv("LOAXA_DATA_DIR", str(settings.data_dir))
        assert loaxa(["backup", str(archive)]) == 0  # online: the controller keeps running
        assert "đã sao lưu" in capsys.readouterr().out
        before = _listing(api)
        with deployment.controller.db.session() as session:
            version = services.current_plan(session, AGENT)
        assert version is not None

        # The old controller goes; its agent keeps running and will look for the broker on the same port.
        deployment.controller.stop()
        restored_dir = tmp_path / "restored"
        monkeypatch.setenv("LOAXA_DATA_DIR", str(restored_dir))
        assert loaxa(["restore", str(archive)]) == 0
        assert (restored_dir.stat().st_mode & 0o777, (restored_dir / "loaxa.db").stat().st_mode & 0o777) == (
            0o700,
            0o600,
        )
        assert loaxa(["restore", str(archive)]) == 2, "a second restore must not overwrite the first"
        assert "đã có dữ liệu" in capsys.readouterr().err
        deployment.controller = Controller(
            settings.model_copy(update={"data_dir": restored_dir}), rules=RULES
        )
        deployment.controller.start()
        assert _listing(api) == before
        with deployment.controller.db.session() as session:
            restored = services.current_plan(session, AGENT)
        assert restored is not None
        assert restored.version == version.version + PLAN_VERSION_GAP == version.version + CLI_GAP
        wait_for("the agent back online", lambda: deployment.device(AGENT)["online"], timeout=30)


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOAXA_DATA_DIR", str(tmp_path / "data"))
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    assert loaxa(["restore", str(junk)]) == 2
    assert not (tmp_path / "data" / "loaxa.db").exists()
    assert loaxa(["backup", str(tmp_path / "data" / "inside.tar.gz")]) == 2  # no data dir yet


def _database(server_url: str, name: str) -> str:
    url = make_url(server_url)
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(False)


def test_postgresql_is_backed_up_with_pg_dump_and_restored_with_pg_restore(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = _database(postgres_url, "backup_source"), _database(postgres_url, "backup_target")
    upgrade(source)
    database = Database(source)
    with database.session() as session:
        services.seed_demo(session, datetime.now(UTC), DEMO_PASSWORD)
        devices = sorted(services.device_villages(session))
    database.dispose()
    (tmp_path / "source" / "keys").mkdir(parents=True)
    (tmp_path / "source" / "keys" / "signing.key").write_text("k")
    archive = tmp_path / "pg.tar.gz"
    monkeypatch.setenv("LOAXA_DATA_DIR", str(tmp_path / "source"))
    monkeypatch.setenv("LOAXA_DATABASE_URL", source)
    assert loaxa(["backup", str(archive)]) == 0
    monkeypatch.setenv("LOAXA_DATA_DIR", str(tmp_path / "target"))
    monkeypatch.setenv("LOAXA_DATABASE_URL", target)
    assert loaxa(["restore", str(archive)]) == 0
    assert (tmp_path / "target" / "keys" / "signing.key").read_text() == "k"
    restored = Database(load_settings().db_url)
    with restored.session() as session:
        assert sorted(services.device_villages(session)) == devices
    restored.dispose()
    assert loaxa(["restore", str(archive)]) == 2, "the target database is no longer empty"
