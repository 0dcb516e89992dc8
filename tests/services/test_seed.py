"""The demo commune: Tú Lệ's villages, twelve clusters, three users; a second run changes nothing."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db import AuditEntry, Base, Device
from controller.services import (
    area_tree,
    areas,
    authenticate,
    broker_accounts,
    list_devices,
    list_villages,
    seed_demo,
)
from controller.services.seed import _matches
from tests.services.conftest import T0

PASSWORD = "demo-mật-khẩu"


def snapshot(session: Session) -> dict[str, list[tuple[object, ...]]]:
    return {
        table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
        for table in Base.metadata.sorted_tables
    }


def test_seed_demo(session: Session) -> None:
    passwords = seed_demo(session, T0, PASSWORD)
    assert sorted(passwords) == [f"tule-c{n:02d}" for n in range(1, 13)]
    villages = list_villages(session, "tule")
    assert len(villages) == 9
    names = {v.name for v in villages}
    assert {"Bản Lìm", "Nả Háng Tủa Chử", "Tặng Ghênh", "Giàng Cài"} <= names
    assert {lang for v in villages for lang in v.languages} == {"vi", "thai", "mong", "dao"}
    devices = list_devices(session, T0)
    assert sum(d.speakers for d in devices) == 24
    assert len({d.village_id for d in devices}) == 9
    hashes = {a.username: a.password_hash for a in broker_accounts(session)}
    assert all(_matches(passwords[d], hashes[d]) for d in passwords)
    for role in ("admin", "operator", "approver"):
        assert authenticate(session, role, PASSWORD).role == role
    session.commit()

    before = snapshot(session)
    assert seed_demo(session, T0.replace(year=2027), PASSWORD) == passwords
    # The commune sits in its district and province, with their administrative codes.
    assert [(a.code, a.level, a.parent) for a in areas.list_areas(session) if a.level != "village"] == [
        ("15", "province", None),
        ("140", "district", "15"),
        ("04630", "commune", "140"),
    ]
    assert len(area_tree.clusters_under(session, "15")) == 12
    session.flush()
    assert snapshot(session) == before
    assert session.scalar(select(func.count()).select_from(Device)) == 12
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "device.provision")
        )
        == 12
    )
