"""Property: every area's subtree resolves to exactly the clusters under it, through any sequence of moves."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from controller.db import Area, AuditEntry, Commune, Device, Village
from controller.services import area_tree, areas, provision_device
from controller.services.errors import ServiceError
from tests.services.conftest import T0

# One province, two districts, three communes, five villages; clusters are placed by the test.
TREE = (
    ("15", "province", None),
    ("140", "district", "15"),
    ("141", "district", "15"),
    ("04630", "commune", "140"),
    ("04631", "commune", "140"),
    ("04700", "commune", "141"),
    ("v1", "village", "04630"),
    ("v2", "village", "04630"),
    ("v3", "village", "04631"),
    ("v4", "village", "04700"),
    ("v5", "village", "04700"),
)
VILLAGES = [code for code, level, _ in TREE if level == "village"]
MOVABLE = [code for code, level, _ in TREE if level != "province"]
CODES = [code for code, _, _ in TREE]


def _expected(session: Session, code: str) -> set[str]:
    """The clusters under `code`, by walking up from each cluster (the other way round from subtree)."""
    parent = dict(session.query(Area.code, Area.parent_code).all())
    found = set()
    for device in session.query(Device).all():
        node: str | None = session.get(Village, device.village_id).area_code  # type: ignore[union-attr]
        while node is not None:
            if node == code:
                found.add(device.id)
                break
            node = parent[node]
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    placements=st.lists(st.sampled_from(VILLAGES), max_size=8),
    moves=st.lists(st.tuples(st.sampled_from(MOVABLE), st.sampled_from([*CODES, None])), max_size=6),
)
def test_every_subtree_resolves_to_exactly_its_clusters(
    session: Session, placements: list[str], moves: list[tuple[str, str | None]]
) -> None:
    for table in (Device, Village, Commune, AuditEntry):
        session.execute(delete(table))
    session.execute(delete(Area).where(Area.level == "village"))
    for level in ("commune", "district", "province"):
        session.execute(delete(Area).where(Area.level == level))
    for code, level, parent in TREE:
        areas.create_area(session, T0, code=code, name=f"Địa bàn {code}", level=level, parent=parent)
    for number, village in enumerate(placements):
        provision_device(session, f"c{number:02d}", T0, name=f"Cụm {number}", village_id=village)
    for code, parent in moves:
        try:  # a refused move (cycle, wrong level) must leave the tree as it was
            with session.begin_nested():
                areas.move_area(session, T0, code, parent)
        except ServiceError:
            pass
    for code in CODES:
        assert area_tree.clusters_under(session, code) == _expected(session, code)
    # The tree stays a tree: every walk up ends at a root without meeting itself.
    parents = dict(session.query(Area.code, Area.parent_code).all())
    for code in CODES:
        seen: set[str] = set()
        node: str | None = code
        while node is not None:
            assert node not in seen
            seen.add(node)
            node = parents[node]
