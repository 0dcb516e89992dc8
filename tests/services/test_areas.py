"""The area tree on SQLite and PostgreSQL: create, rename, move, retire, CSV import, and bad input."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db import Area, Commune, Device, Village
from controller.services import area_import, area_tree, areas, create_bulletin, provision_device, submit
from controller.services.errors import (
    AreaCycle,
    AreaExists,
    AreaInUse,
    AreaLevelMismatch,
    AreaRetired,
    ImportRejected,
    NotFound,
    ValidationFailed,
)
from tests.services.conftest import T0, World


def province(session: Session) -> None:
    """Yên Bái (15) with Văn Chấn (140) and Trạm Tấu (141); Tú Lệ (04630) with Bản Lìm under Văn Chấn."""
    for code, name, level, parent in (
        ("15", "Tỉnh Yên Bái", "province", None),
        ("140", "Huyện Văn Chấn", "district", "15"),
        ("141", "Huyện Trạm Tấu", "district", "15"),
        ("04630", "Xã Tú Lệ", "commune", "140"),
    ):
        areas.create_area(session, T0, code=code, name=name, level=level, parent=parent)
    areas.create_area(
        session, T0, code="04630-lim", name="Bản Lìm", level="village", parent="04630", lat=21.8, lon=104.3,
        languages=["vi", "thai"],
    )  # fmt: skip


def test_a_created_tree_has_its_communes_and_villages(session: Session) -> None:
    province(session)
    village = session.get(Village, "04630-lim")
    assert village is not None and village.commune_id == "04630" and village.languages == ["vi", "thai"]
    assert session.get(Commune, "04630") is not None
    assert [a.code for a in areas.list_areas(session, under="140")] == ["140", "04630", "04630-lim"]
    lim = areas.get_area(session, "04630-lim")
    assert (lim.parent, lim.lat, lim.lon, lim.languages) == ("04630", 21.8, 104.3, ("vi", "thai"))
    provision_device(session, "tl-c01", T0, name="Cụm 1", village_id="04630-lim")
    assert area_tree.clusters_under(session, "15") == {"tl-c01"}


def test_rename_keeps_the_commune_and_village_rows_in_step(session: Session) -> None:
    province(session)
    areas.rename_area(session, T0, "04630-lim", "  Bản Lìm Thái ")
    village = session.get(Village, "04630-lim")
    assert village is not None and village.name == "Bản Lìm Thái"
    with pytest.raises(ValidationFailed, match="Tên"):
        areas.rename_area(session, T0, "04630", "   ")


def test_a_move_changes_the_village_commune(session: Session) -> None:
    province(session)
    areas.create_area(session, T0, code="04600", name="Xã Bản Công", level="commune", parent="141")
    areas.move_area(session, T0, "04630-lim", "04600")
    village = session.get(Village, "04630-lim")
    assert village is not None and village.commune_id == "04600"
    areas.move_area(session, T0, "04630", "141")
    assert areas.get_area(session, "04630").parent == "141"


@pytest.mark.parametrize(
    "case",
    [
        ("16", "province", None, None, None),
        ("1", "province", None, ValidationFailed, "2 chữ số"),
        ("1400", "district", "15", ValidationFailed, "3 chữ số"),
        ("142", "district", None, AreaLevelMismatch, "phải thuộc"),
        ("04631", "commune", "15", AreaLevelMismatch, "không thể nằm dưới tỉnh"),
        ("ban-x", "village", "140", AreaLevelMismatch, "không thể nằm dưới huyện"),
        ("ban-x", "village", None, AreaLevelMismatch, "phải thuộc"),
        ("140", "district", "15", AreaExists, "đã được dùng"),
        ("04631", "commune", "999", NotFound, "999"),
        ("c01", "cluster", "04630-lim", ValidationFailed, "loaxa device add"),
        ("Bản X", "village", "04630", ValidationFailed, "thôn/bản"),
    ],
)
def test_bad_areas_are_refused_and_nothing_changes(
    session: Session, case: tuple[str, str, str | None, type[Exception] | None, str | None]
) -> None:
    code, level, parent, error, words = case
    province(session)
    before = session.scalar(select(func.count()).select_from(Area))
    if error is None:
        areas.create_area(session, T0, code=code, name="Tỉnh mới", level=level, parent=parent)
        return
    with pytest.raises(error, match=words):
        areas.create_area(session, T0, code=code, name="Tên", level=level, parent=parent)
    assert session.scalar(select(func.count()).select_from(Area)) == before


def test_moves_that_would_make_a_cycle_or_misfit_are_refused(session: Session) -> None:
    province(session)
    with pytest.raises(AreaCycle, match="vòng"):
        areas.move_area(session, T0, "140", "140")
    areas.create_area(session, T0, code="14", name="Tỉnh Khác", level="province", parent=None)
    with pytest.raises(AreaCycle, match="04630 nằm trong chính 15"):
        areas.move_area(session, T0, "15", "04630")  # under its own descendant
    with pytest.raises(AreaLevelMismatch, match="không thể nằm dưới tỉnh"):
        areas.move_area(session, T0, "04630", "14")
    with pytest.raises(AreaLevelMismatch):
        areas.move_area(session, T0, "04630-lim", None)
    assert areas.get_area(session, "04630-lim").parent == "04630"


def test_retiring_is_refused_while_something_depends_on_it(session: Session, world: World) -> None:
    province(session)
    with pytest.raises(AreaInUse, match="140"):
        areas.retire_area(session, T0, "15")
    provision_device(session, "tl-c09", T0, name="Cụm 9", village_id="04630-lim")
    with pytest.raises(AreaInUse, match="tl-c09"):
        areas.retire_area(session, T0, "04630-lim")
    # A pending bulletin aimed at village cai is named too, beside the village's cluster.
    bulletin = create_bulletin(
        session, world.operator, T0, title="Họp", text="Mời họp.", targets={"villages": ["cai"]}
    )
    submit(session, bulletin.id, world.operator, T0)
    with pytest.raises(AreaInUse, match=f"cụm loa: tl-c03; bản tin chờ duyệt hoặc đã duyệt: #{bulletin.id}"):
        areas.retire_area(session, T0, "cai")
    assert not areas.get_area(session, "cai").retired
    assert session.get(Device, "tl-c09") is not None


def test_a_retired_area_takes_nothing_new(session: Session) -> None:
    province(session)
    assert areas.retire_area(session, T0, "141").retired
    assert "141" not in {a.code for a in areas.list_areas(session)}
    assert "141" in {a.code for a in areas.list_areas(session, retired=True)}
    with pytest.raises(AreaRetired):
        areas.create_area(session, T0, code="04700", name="Xã Mới", level="commune", parent="141")
    with pytest.raises(AreaRetired):
        areas.move_area(session, T0, "04630", "141")
    areas.create_area(session, T0, code="04630-cu", name="Bản Cũ", level="village", parent="04630")
    areas.retire_area(session, T0, "04630-cu")
    with pytest.raises(AreaRetired, match="04630-cu"):
        provision_device(session, "tl-c10", T0, name="Cụm 10", village_id="04630-cu")


CSV = """code,name,level,parent,lat,lon,languages
142,Huyện Mù Cang Chải,district,15,,,
04700,Xã Púng Luông,commune,142,21.7,104.2,
04700-nhu,Bản Nhù,village,04700,,,vi mong
"""


def test_a_csv_import_creates_everything_parents_first(session: Session) -> None:
    province(session)
    reordered = CSV.splitlines()[0] + "\n" + "\n".join(reversed(CSV.splitlines()[1:])) + "\n"
    created = area_import.import_areas(session, T0, reordered)
    assert [a.code for a in created] == ["142", "04700", "04700-nhu"]
    village = session.get(Village, "04700-nhu")
    assert village is not None and village.languages == ["vi", "mong"] and village.commune_id == "04700"


def test_a_csv_with_bad_rows_names_every_line_and_imports_nothing(session: Session) -> None:
    province(session)
    bad = CSV + "\n".join(
        [
            "143,Huyện Lặp,district,15,,,",  # line 5: fine on its own
            "143,Huyện Lặp,district,15,,,",  # line 6: duplicate of line 5
            "04630,Xã Tú Lệ,commune,140,,,",  # line 7: in the database already
            "4701,Xã Sai Mã,commune,142,,,",  # line 8: 4 digits
            "04702,Xã Lạc,commune,15,,,",  # line 9: a commune under a province
            "ban-a,Bản A,village,04799,,,",  # line 10: no such parent
            "04703,Xã Toạ Độ,commune,142,abc,104,",  # line 11: latitude not a number
            "04704,Xã Thiếu,commune",  # line 12: too few columns
            '04705,"Xã\x07Chuông",commune,142,,,',  # line 13: a control character in the name
        ]
    )
    before = session.scalar(select(func.count()).select_from(Area))
    with pytest.raises(ImportRejected) as caught:
        area_import.import_areas(session, T0, bad)
    lines = [int(p.split(":")[0].removeprefix("dòng ")) for p in caught.value.problems]
    assert lines == [6, 7, 8, 9, 10, 11, 12, 13], caught.value.problems
    assert "chưa nhập dòng nào" in caught.value.message
    assert session.scalar(select(func.count()).select_from(Area)) == before


def test_a_csv_without_the_header_is_refused(session: Session) -> None:
    with pytest.raises(ImportRejected, match="thiếu cột"):
        area_import.import_areas(session, T0, "15,Tỉnh Yên Bái,province,\n")


def test_existing_communes_and_villages_are_areas_too(session: Session, world: World) -> None:
    commune = session.get(Commune, "tl")
    assert commune is not None and areas.get_area(session, commune.area_code).level == "commune"
    assert area_tree.clusters_under(session, "tl") == {"tl-c01", "tl-c02", "tl-c03"}
    province(session)
    areas.move_area(session, T0, "tl", "140")
    assert area_tree.clusters_under(session, "15") == {"tl-c01", "tl-c02", "tl-c03"}
