"""Migration 0002 on a database that has communes, villages and devices from before areas existed."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from controller.db import Area, Commune, Database, upgrade
from controller.services import area_tree, areas, seed_demo
from tests.db.support import BACKENDS, postgres_database, server_url

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
OLD_ROWS = (
    "INSERT INTO communes (id, name, timezone, created_at) "
    "VALUES ('tule', 'Xã Tú Lệ', 'Asia/Ho_Chi_Minh', :t)",
    "INSERT INTO villages (id, commune_id, name, languages, created_at) "
    "VALUES ('ban-lim', 'tule', 'Bản Lìm', '[\"vi\", \"thai\"]', :t)",
    "INSERT INTO devices (id, name, village_id, speakers, mqtt_password_hash, online, created_at) "
    "VALUES ('tule-c01', 'Cụm 1', 'ban-lim', 2, 'x', false, :t)",
)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL of one backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server = server_url(request, "postgres")
    assert server is not None
    with postgres_database(server) as fresh:
        yield fresh


def test_existing_rows_become_areas_and_the_demo_seed_places_them(url: str) -> None:
    upgrade(url, "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in OLD_ROWS:
            conn.execute(text(statement), {"t": T0})
    engine.dispose()
    upgrade(url)
    db = Database(url)
    try:
        with db.session() as session:
            commune = session.get(Commune, "tule")
            assert commune is not None and commune.area_code == "tule"
            village = areas.get_area(session, "ban-lim")
            assert (village.level, village.parent, village.languages) == ("village", "tule", ("vi", "thai"))
            assert area_tree.clusters_under(session, "tule") == {"tule-c01"}
            seed_demo(session, T0, "mật-khẩu-demo")
        with db.session() as session:
            tule = session.get(Area, "tule")
            assert tule is not None and tule.parent_code == "140"
            assert areas.get_area(session, "140").parent == "15"
            assert len(area_tree.clusters_under(session, "15")) == 12
    finally:
        db.dispose()
