"""A province on SQLite and PostgreSQL (DESIGN §11): scoped staff, bulletins from above, statistics up.

Yên Bái (15) has districts 140 and 141; communes 04600 and 04601 lie under 140, 04700 and 04701 under 141;
each commune has one village with two clusters.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from controller.db import DeviceCoverage, DeviceEvent, Play
from controller.services import (
    UserView,
    approve,
    create_bulletin,
    inbox,
    list_bulletins,
    provision_device,
    scope_of,
    stats,
    submit,
    target_devices,
    user_admin,
)
from controller.services.areas import create_area, retire_area
from controller.services.errors import (
    AreaExists,
    AreaInUse,
    AuthenticationFailed,
    InvalidTransition,
    NotFound,
    OutOfScope,
    ReasonRequired,
    TargetOutOfScope,
    UnknownTarget,
    WrongPassword,
)
from controller.services.scope import area_scope
from controller.services.users import authenticate, create_user
from tests.services.conftest import T0, add_user

COMMUNES = {"140": ("04600", "04601"), "141": ("04700", "04701")}
ZONE_SPANS = [(T0, T0 + timedelta(hours=2))]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Province:
    """The staff of the province, of district 140 and of communes 04600 and 04601."""

    province_op: UserView
    province_boss: UserView
    province_admin: UserView
    district_op: UserView
    op_a: UserView
    boss_a: UserView
    admin_a: UserView
    op_b: UserView


@pytest.fixture
def province(session: Session) -> Province:
    root = add_user(session, "root-system", "admin", commune_id=None)
    create_area(session, T0, code="15", name="Tỉnh Yên Bái", level="province", parent=None)
    for district, communes in COMMUNES.items():
        create_area(session, T0, code=district, name=f"Huyện {district}", level="district", parent="15")
        for commune in communes:
            create_area(session, T0, code=commune, name=f"Xã {commune}", level="commune", parent=district)
            village = f"{commune}-ban"
            create_area(session, T0, code=village, name=f"Bản {commune}", level="village", parent=commune)
            for n in (1, 2):
                provision_device(session, f"c{commune}-{n}", T0, name=f"Cụm {n}", village_id=village)

    def staff(name: str, role: str, area: str) -> UserView:
        view = add_user(session, name, role, commune_id=None)
        return user_admin.change_user(session, root, view.id, T0, area=area)

    return Province(
        province_op=staff("tinh-op", "operator", "15"),
        province_boss=staff("tinh-boss", "approver", "15"),
        province_admin=staff("tinh-admin", "admin", "15"),
        district_op=staff("huyen-op", "operator", "140"),
        op_a=staff("xa-a-op", "operator", "04600"),
        boss_a=staff("xa-a-boss", "approver", "04600"),
        admin_a=staff("xa-a-admin", "admin", "04600"),
        op_b=staff("xa-b-op", "operator", "04601"),
    )


def _send(
    session: Session, author: UserView, boss: UserView, targets: object, priority: str = "normal"
) -> int:
    view = create_bulletin(
        session, author, T0, title="Thông báo", text="Nội dung thông báo.", priority=priority, targets=targets
    )
    submit(session, view.id, author, T0)
    approve(session, view.id, boss, T0)
    return view.id


def _devices(*communes: str) -> list[str]:
    return sorted(f"c{c}-{n}" for c in communes for n in (1, 2))


def test_a_commune_operator_cannot_target_a_neighbouring_commune(
    session: Session, province: Province
) -> None:
    for targets, refused in (
        ({"villages": ["04601-ban"]}, ["04601-ban"]),
        ({"clusters": ["c04600-1", "c04601-1"]}, ["c04601-1"]),
        ({"areas": ["04601"]}, ["04601"]),
        ({"areas": ["140"]}, ["140"]),
    ):
        with pytest.raises(TargetOutOfScope, match="nằm ngoài địa bàn 04600") as caught:
            create_bulletin(session, province.op_a, T0, title="T", text="Nội dung.", targets=targets)
        assert caught.value.refused == refused
        assert caught.value.fields == {"targets": refused}


def test_a_commune_operator_does_not_see_a_neighbours_bulletins(session: Session, province: Province) -> None:
    mine = create_bulletin(session, province.op_a, T0, title="A", text="Của xã A.", targets={"all": True})
    theirs = create_bulletin(session, province.op_b, T0, title="B", text="Của xã B.", targets={"all": True})
    seen_by_a = {b.id for b in list_bulletins(session, scope=scope_of(session, province.op_a))}
    seen_by_district = {b.id for b in list_bulletins(session, scope=scope_of(session, province.district_op))}
    assert seen_by_a == {mine.id}
    assert seen_by_district == {mine.id, theirs.id}
    assert target_devices(session, mine.id) == _devices("04600")


@pytest.mark.parametrize(
    ("author", "targets", "communes"),
    [
        ("province_op", {"all": True}, ("04600", "04601", "04700", "04701")),
        ("province_op", {"areas": ["141"]}, ("04700", "04701")),
        ("province_op", {"areas": ["140", "04700"]}, ("04600", "04601", "04700")),
        ("district_op", {"all": True}, ("04600", "04601")),
        ("district_op", {"areas": ["04601"]}, ("04601",)),
    ],
)
def test_targets_resolve_to_the_clusters_under_them(
    session: Session, province: Province, author: str, targets: object, communes: tuple[str, ...]
) -> None:
    view = create_bulletin(
        session, getattr(province, author), T0, title="T", text="Nội dung.", targets=targets
    )
    assert view.sender_area == {"province_op": "15", "district_op": "140"}[author]
    assert target_devices(session, view.id) == _devices(*communes)


def test_one_cluster_is_a_target_too(session: Session, province: Province) -> None:
    view = create_bulletin(
        session, province.province_op, T0, title="T", text="Nội dung.", targets={"clusters": ["c04701-2"]}
    )
    assert target_devices(session, view.id) == ["c04701-2"]


def test_unknown_area_codes_are_refused_by_name(session: Session, province: Province) -> None:
    with pytest.raises(UnknownTarget, match="Không có địa bàn mã 99, 999"):
        create_bulletin(
            session, province.province_op, T0, title="T", text="Nội dung.", targets={"areas": ["999", "99"]}
        )


def test_an_approver_approves_only_what_their_level_sends(session: Session, province: Province) -> None:
    view = create_bulletin(
        session, province.province_op, T0, title="T", text="Nội dung.", targets={"all": True}
    )
    submit(session, view.id, province.province_op, T0)
    with pytest.raises(OutOfScope, match="chỉ lãnh đạo cấp gửi mới duyệt được"):
        approve(session, view.id, province.boss_a, T0)
    assert approve(session, view.id, province.province_boss, T0).status == "approved"


def test_a_normal_bulletin_from_above_waits_in_each_inbox(session: Session, province: Province) -> None:
    bulletin_id = _send(session, province.province_op, province.province_boss, {"all": True})
    everyone = inbox.list_inbox(session, area_scope(session, "15"))
    assert sorted(i.commune_id for i in everyone) == ["04600", "04601", "04700", "04701"]
    assert {i.state for i in everyone} == {"waiting"}
    assert inbox.gates(session, [bulletin_id])[bulletin_id].communes == frozenset()

    [entry_a] = inbox.list_inbox(session, scope_of(session, province.op_a))
    [entry_b] = inbox.list_inbox(session, scope_of(session, province.op_b))
    assert inbox.schedule(session, entry_a.id, province.op_a, T0).state == "scheduled"
    for empty in ("", "   ", None):
        with pytest.raises(ReasonRequired, match="Hãy ghi lý do từ chối"):
            inbox.decline(session, entry_b.id, province.op_b, T0, empty)
    inbox.decline(session, entry_b.id, province.op_b, T0, "Trùng lịch họp xã")
    with pytest.raises(NotFound):  # a neighbour's entry looks like none
        inbox.schedule(session, entry_b.id, province.op_a, T0)

    gate = inbox.gates(session, [bulletin_id])[bulletin_id]
    assert gate.communes == frozenset({"04600"})
    assert gate.level == 0
    outcomes = {o.commune_id: (o.state, o.reason) for o in inbox.outcomes(session, bulletin_id)}
    assert outcomes == {
        "04600": ("scheduled", None),
        "04601": ("declined", "Trùng lịch họp xã"),
        "04700": ("waiting", None),
        "04701": ("waiting", None),
    }


def test_a_priority_bulletin_from_above_clashes_with_a_communes_own(
    session: Session, province: Province
) -> None:
    _send(session, province.op_a, province.boss_a, {"all": True}, priority="priority")
    bulletin_id = _send(
        session, province.province_op, province.province_boss, {"areas": ["140"]}, priority="priority"
    )
    entries = {i.commune_id: i for i in inbox.list_inbox(session, area_scope(session, "15"))}
    assert {c: (e.state, e.clash) for c, e in entries.items()} == {
        "04600": ("scheduled", True),
        "04601": ("scheduled", False),
    }
    with pytest.raises(InvalidTransition, match="không được từ chối"):
        inbox.decline(session, entries["04600"].id, province.op_a, T0, "không muốn")
    decided = inbox.set_order(session, entries["04600"].id, province.op_a, T0, "commune_first")
    assert (decided.clash, decided.play_order) == (False, "commune_first")
    gate = inbox.gates(session, [bulletin_id])[bulletin_id]
    assert (gate.communes, gate.yields_in) == (frozenset({"04600", "04601"}), frozenset({"04600"}))


def test_a_bulletin_within_a_commune_has_no_inbox(session: Session, province: Province) -> None:
    bulletin_id = _send(session, province.op_a, province.boss_a, {"all": True})
    assert inbox.gates(session, [bulletin_id]) == {}


def test_retiring_an_area_targeted_by_a_bulletin_is_refused(session: Session, province: Province) -> None:
    create_area(session, T0, code="142", name="Huyện Mới", level="district", parent="15")
    create_area(session, T0, code="04800", name="Xã Mới", level="commune", parent="142")
    create_area(session, T0, code="04800-ban", name="Bản Mới", level="village", parent="04800")
    provision_device(session, "c04800-1", T0, name="Cụm 1", village_id="04800-ban")
    view = create_bulletin(
        session, province.province_op, T0, title="T", text="Nội dung.", targets={"areas": ["142"]}
    )
    submit(session, view.id, province.province_op, T0)
    with pytest.raises(AreaInUse, match=f"bản tin chờ duyệt hoặc đã duyệt: #{view.id}"):
        retire_area(session, T0, "142")
    with pytest.raises(AreaExists):
        create_area(session, T0, code="142", name="Huyện Khác", level="district", parent="15")


def test_admins_manage_only_users_under_their_area(session: Session, province: Province) -> None:
    made = create_user(session, "xa-a-moi", "mật-khẩu-dài", "operator", T0, area="04600")
    assert (made.area_code, made.commune_id) == ("04600", "04600")
    with pytest.raises(OutOfScope, match="nằm ngoài địa bàn 04600"):
        user_admin.check_area_given(session, province.admin_a, "04601")
    with pytest.raises(NotFound):
        user_admin.change_user(session, province.admin_a, province.op_b.id, T0, role="viewer")
    changed = user_admin.change_user(session, province.admin_a, made.id, T0, role="approver", active=False)
    assert (changed.role, changed.active) == ("approver", False)
    managed = {u.username for u in user_admin.users_managed(session, province.admin_a)}
    assert managed == {"xa-a-op", "xa-a-boss", "xa-a-admin", "xa-a-moi"}
    assert len(user_admin.users_managed(session, province.province_admin)) == 9


def test_a_reset_code_works_once_and_expires(session: Session, province: Province) -> None:
    code = user_admin.issue_reset(session, province.admin_a, province.op_a.id, T0)
    with pytest.raises(AuthenticationFailed, match="không đúng"):
        user_admin.redeem_reset(session, "xa-b-op", code.code, "mật-khẩu-mới-1", T0)
    user_admin.redeem_reset(session, "xa-a-op", code.code, "mật-khẩu-mới-1", T0)
    assert authenticate(session, "xa-a-op", "mật-khẩu-mới-1").id == province.op_a.id
    with pytest.raises(AuthenticationFailed, match="đã được dùng"):
        user_admin.redeem_reset(session, "xa-a-op", code.code, "mật-khẩu-mới-2", T0)
    late = user_admin.issue_reset(session, province.admin_a, province.op_a.id, T0)
    with pytest.raises(AuthenticationFailed, match="hết hạn"):
        user_admin.redeem_reset(session, "xa-a-op", late.code, "mật-khẩu-mới-3", T0 + timedelta(days=2))


def test_a_user_changes_their_password_with_the_old_one(session: Session, province: Province) -> None:
    with pytest.raises(WrongPassword):
        user_admin.change_password(session, province.op_a, "sai-mật-khẩu", "mật-khẩu-mới-1", T0)
    user_admin.change_password(session, province.op_a, "mật-khẩu-demo", "mật-khẩu-mới-1", T0)
    assert authenticate(session, "xa-a-op", "mật-khẩu-mới-1").id == province.op_a.id


def test_statistics_add_up_across_levels(session: Session, province: Province) -> None:
    for n, device in enumerate(["c04600-1", "c04600-2", "c04601-1", "c04700-1"], start=1):
        start = T0 + timedelta(minutes=n)
        session.add(
            Play(device_id=device, seq=n, started_at=start, finished_at=start + timedelta(seconds=30 * n),
                 status="finished", bulletin_id=None)
        )  # fmt: skip
        session.add(DeviceCoverage(device_id=device, start_at=T0, end_at=T0 + timedelta(minutes=30)))
        session.add(
            DeviceCoverage(
                device_id=device, start_at=T0 + timedelta(minutes=60), end_at=T0 + timedelta(hours=3)
            )
        )
    for seq, (boot, minutes) in enumerate((("boot-a", 1), ("boot-b", 62)), start=1):  # c04600-1 restarted
        at = T0 + timedelta(minutes=minutes)
        session.add(
            DeviceEvent(device_id="c04600-1", seq=seq, type="started", at=at, received_at=at, boot_id=boot)
        )
    session.flush()
    now, end = T0 + timedelta(hours=3), T0 + timedelta(hours=2)

    def figures(code: str) -> stats.AreaStats:
        return stats.area_stats(
            session, area_scope(session, code), T0, end, now, windows=ZONE_SPANS, zone=ZONE
        )

    province_stats, districts = figures("15"), [figures("140"), figures("141")]
    communes = [figures(c) for cs in COMMUNES.values() for c in cs]
    assert province_stats.plays == sum(d.plays for d in districts) == sum(c.plays for c in communes) == 4
    assert province_stats.airtime_s == sum(d.airtime_s for d in districts) == 300
    assert [(c.commune_id, c.plays, c.airtime_s) for c in districts[0].communes] == [
        ("04600", 2, 90),
        ("04601", 1, 90),
    ]
    outages = [(o.device_id, o.end - o.start if o.end else None, o.cause) for o in province_stats.outages]
    gap = timedelta(minutes=30)
    assert outages == [
        ("c04600-1", gap, "restart"),
        *((d, gap, "network") for d in ("c04600-2", "c04601-1", "c04700-1")),
    ]
    shares = {c.device_id: c.availability for c in province_stats.clusters}
    assert shares["c04600-1"] == pytest.approx(0.75)
    assert shares["c04701-1"] == 0.0


CODES = [
    "15",
    *COMMUNES,
    *(c for cs in COMMUNES.values() for c in cs),
    *(f"{c}-ban" for cs in COMMUNES.values() for c in cs),
]
CLUSTERS = _devices(*(c for cs in COMMUNES.values() for c in cs))


def _under(code: str) -> set[str]:
    """The clusters under `code`, read from each cluster's name (the other way round from the tree)."""
    return {d for d in CLUSTERS if code in ("15", _district_of(d[1:6]), d[1:6], f"{d[1:6]}-ban")}


def _district_of(commune: str) -> str:
    return next(district for district, communes in COMMUNES.items() if commune in communes)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sender=st.sampled_from(["province_op", "district_op", "op_a"]),
    targets=st.one_of(
        st.just({"all": True}),
        st.builds(lambda codes: {"areas": codes}, st.lists(st.sampled_from(CODES), min_size=1, max_size=4)),
        st.builds(lambda ids: {"clusters": ids}, st.lists(st.sampled_from(CLUSTERS), min_size=1, max_size=4)),
    ),
)
def test_every_target_resolves_to_exactly_the_clusters_under_it(
    session: Session, province: Province, sender: str, targets: dict[str, Any]
) -> None:
    author = getattr(province, sender)
    own = {"province_op": "15", "district_op": "140", "op_a": "04600"}[sender]
    inside = _under(own)
    if "areas" in targets:
        wanted = set().union(*(_under(code) for code in targets["areas"]))
        allowed = all(_under(code) <= inside for code in targets["areas"])
    elif "clusters" in targets:
        wanted = set(targets["clusters"])
        allowed = wanted <= inside
    else:
        wanted, allowed = inside, True
    if not allowed:
        with pytest.raises(TargetOutOfScope):
            create_bulletin(session, author, T0, title="T", text="Nội dung.", targets=targets)
        return
    view = create_bulletin(session, author, T0, title="T", text="Nội dung.", targets=targets)
    assert set(target_devices(session, view.id)) == wanted
