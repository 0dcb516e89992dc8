"""The area tree: provinces, districts, communes and villages, created, renamed, moved and retired.

Owns the tree's rules: official codes (Vietnamese administrative unit codes: a province has 2 digits, a
district 3, a commune 5; a village gets a code its commune chooses), which level goes under which, no
cycles, no orphans, and what may be retired. The level below a village, the loudspeaker cluster, is a
device (controller.services.devices). A commune or village area also has its row in `communes` or
`villages`, kept in step here. Must not commit, announce or know HTTP.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import AREA_LEVELS, Area, Commune, Device, Village
from controller.services import area_tree
from controller.services.audit import write_audit
from controller.services.errors import (
    AreaCycle,
    AreaExists,
    AreaInUse,
    AreaLevelMismatch,
    AreaRetired,
    NotFound,
    ValidationFailed,
)

LEVEL_NAMES: Final = {"province": "tỉnh", "district": "huyện", "commune": "xã", "village": "thôn/bản"}
# The level an area's parent must have; None: it may also stand alone (a commune running loaxa by itself).
PARENT_LEVEL: Final[dict[str, str | None]] = {
    "province": None,
    "district": "province",
    "commune": "district",
    "village": "commune",
}
_MAY_STAND_ALONE: Final = frozenset({"province", "commune"})
_OFFICIAL_DIGITS: Final = {"province": 2, "district": 3, "commune": 5}
_LOCAL_CODE: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_LANGUAGE: Final = re.compile(r"[a-z]{2,8}(?:-[a-z0-9]{1,8})*")
MAX_NAME: Final = 200


@dataclass(frozen=True)
class AreaView:
    """An area as callers see it; `languages` is set for villages only."""

    code: str
    name: str
    level: str
    parent: str | None
    lat: float | None
    lon: float | None
    languages: tuple[str, ...]
    retired: bool


def check_code(code: object, level: str) -> str:
    """The code if it has the form its level asks for."""
    digits = _OFFICIAL_DIGITS.get(level)
    if digits is not None:
        if not isinstance(code, str) or not (len(code) == digits and code.isascii() and code.isdigit()):
            raise ValidationFailed(
                f"Mã {code!r:.40} không hợp lệ cho cấp {LEVEL_NAMES[level]}: mã đơn vị hành chính cấp "
                f"{LEVEL_NAMES[level]} gồm đúng {digits} chữ số (ví dụ {'0' * (digits - 1)}1)."
            )
    elif not isinstance(code, str) or not _LOCAL_CODE.fullmatch(code):
        raise ValidationFailed(
            f"Mã {code!r:.40} không hợp lệ cho thôn/bản: dùng 1–64 chữ thường a–z, chữ số và dấu '-' "
            "(không ở đầu hay cuối), ví dụ '04630-ban-lim'."
        )
    return code


def check_level(level: object) -> str:
    """The level if it is one the tree stores."""
    if level not in AREA_LEVELS:
        hint = " Cụm loa là một thiết bị: thêm bằng `loaxa device add`." if level == "cluster" else ""
        raise ValidationFailed(
            f"Cấp {level!r:.40} không hợp lệ: chọn province, district, commune hoặc village.{hint}"
        )
    return str(level)


def check_name(name: object) -> str:
    """A stripped, non-empty name of at most 200 characters."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise ValidationFailed(f"Tên {name!r:.40} không hợp lệ: nhập tên tiếng Việt, 1–{MAX_NAME} ký tự.")
    if any(ord(char) < 32 or ord(char) == 127 or "\ud800" <= char <= "\udfff" for char in name):
        raise ValidationFailed(f"Tên {name!r:.40} chứa ký tự điều khiển: xoá ký tự đó rồi nhập lại.")
    return name.strip()


def check_languages(languages: Sequence[str] | None, level: str) -> list[str]:
    """A village's languages (Vietnamese when none are given); other levels take none."""
    if level != "village":
        if languages:
            raise ValidationFailed("Chỉ thôn/bản mới có ngôn ngữ; bỏ ngôn ngữ đi với cấp này.")
        return []
    chosen = list(dict.fromkeys(languages or ["vi"]))
    bad = [lang for lang in chosen if not isinstance(lang, str) or not _LANGUAGE.fullmatch(lang)]
    if bad:
        raise ValidationFailed(
            f"Ngôn ngữ {bad!r:.80} không hợp lệ: dùng mã ngắn chữ thường như vi, thai, mong."
        )
    return chosen


def check_coordinates(lat: float | None, lon: float | None) -> None:
    """Both coordinates or neither, each a finite number in range."""
    if (lat is None) != (lon is None):
        raise ValidationFailed("Toạ độ cần cả vĩ độ (lat) và kinh độ (lon), hoặc bỏ trống cả hai.")
    if (lat is not None and lon is not None) and not (
        math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180
    ):
        raise ValidationFailed(
            f"Toạ độ ({lat}, {lon}) không hợp lệ: vĩ độ từ -90 đến 90, kinh độ từ -180 đến 180."
        )


def _get(session: Session, code: str) -> Area:
    area = session.get(Area, code)
    if area is None:
        raise NotFound(f"Không có địa bàn mã {code!r:.40}; xem danh sách bằng `loaxa area list`.")
    return area


def check_parent(level: str, parent: Area | None, code: str) -> None:
    """Refuse a parent of the wrong level, a retired parent, or none where one is needed."""
    wanted = PARENT_LEVEL[level]
    if parent is None:
        if level not in _MAY_STAND_ALONE:
            raise AreaLevelMismatch(
                f"{LEVEL_NAMES[level].capitalize()} {code} phải thuộc một {LEVEL_NAMES[str(wanted)]}: "
                "cho biết mã cấp trên (parent)."
            )
        return
    if parent.level != wanted:
        allowed = f"một {LEVEL_NAMES[wanted]}" if wanted else "không cấp nào (tỉnh là cấp cao nhất)"
        raise AreaLevelMismatch(
            f"{LEVEL_NAMES[level].capitalize()} {code} không thể nằm dưới {LEVEL_NAMES[parent.level]} "
            f"{parent.code} ({parent.name}): cấp trên phải là {allowed}."
        )
    if parent.retired:
        raise AreaRetired(
            f"{LEVEL_NAMES[parent.level].capitalize()} {parent.code} ({parent.name}) đã ngừng hoạt động: "
            "chọn cấp trên khác."
        )


def view(session: Session, area: Area) -> AreaView:
    """The view of an area row."""
    languages: tuple[str, ...] = ()
    if area.level == "village":
        village = session.scalar(select(Village).where(Village.area_code == area.code))
        languages = tuple(village.languages) if village is not None else ()
    return AreaView(
        code=area.code, name=area.name, level=area.level, parent=area.parent_code, lat=area.lat,
        lon=area.lon, languages=languages, retired=area.retired,
    )  # fmt: skip


def insert_area(
    session: Session,
    now: datetime,
    *,
    code: str,
    name: str,
    level: str,
    parent: str | None,
    lat: float | None = None,
    lon: float | None = None,
) -> Area:
    """Add an area row after checking its parent (its code's form is the caller's business)."""
    if session.get(Area, code) is not None:
        raise AreaExists(f"Mã {code} đã được dùng cho một địa bàn khác; chọn mã khác hoặc sửa địa bàn đó.")
    parent_area = _get(session, parent) if parent is not None else None
    check_parent(level, parent_area, code)
    check_coordinates(lat, lon)
    area = Area(
        code=code, name=check_name(name), level=level, parent_code=parent, lat=lat, lon=lon, retired=False,
        created_at=now,
    )  # fmt: skip
    session.add(area)
    session.flush()
    return area


def create_area(
    session: Session,
    now: datetime,
    *,
    code: str,
    name: str,
    level: str,
    parent: str | None,
    lat: float | None = None,
    lon: float | None = None,
    languages: Sequence[str] | None = None,
    actor: str | None = None,
) -> AreaView:
    """Create an area; a commune or village also gets its `communes` or `villages` row (id = code)."""
    level = check_code_and_level(code, level)
    chosen = check_languages(languages, level)
    area = insert_area(session, now, code=code, name=name, level=level, parent=parent, lat=lat, lon=lon)
    if level == "commune":
        session.add(Commune(id=code, name=area.name, area_code=code, created_at=now))
    elif level == "village":
        session.add(
            Village(id=code, name=area.name, commune_id=_commune_of(session, area), languages=chosen,
                    area_code=code, created_at=now)
        )  # fmt: skip
    session.flush()
    write_audit(session, now, actor=actor, action="area.create", entity="area", entity_id=code)
    return view(session, area)


def check_code_and_level(code: object, level: object) -> str:
    """The level, once both it and the code's form are valid."""
    checked = check_level(level)
    check_code(code, checked)
    return checked


def _commune_of(session: Session, village_area: Area) -> str:
    commune = session.scalar(select(Commune.id).where(Commune.area_code == village_area.parent_code))
    if commune is None:
        raise NotFound(f"Xã {village_area.parent_code} chưa có trong hệ thống; tạo xã trước.")
    return commune


def list_areas(session: Session, *, under: str | None = None, retired: bool = False) -> list[AreaView]:
    """Areas by level then code; only those under `under` (itself included) if given; retired on request."""
    query = select(Area)
    if under is not None:
        query = query.where(Area.code.in_(area_tree.subtree(session, _get(session, under).code)))
    if not retired:
        query = query.where(Area.retired.is_(False))
    rows = sorted(session.scalars(query), key=lambda a: (AREA_LEVELS.index(a.level), a.code))
    return [view(session, area) for area in rows]


def get_area(session: Session, code: str) -> AreaView:
    """One area."""
    return view(session, _get(session, code))


def rename_area(
    session: Session, now: datetime, code: str, name: str, *, actor: str | None = None
) -> AreaView:
    """Give an area a new name (its commune or village row too)."""
    area = _get(session, code)
    old, area.name = area.name, check_name(name)
    for row in session.scalars(select(Commune).where(Commune.area_code == code)):
        row.name = area.name
    for village in session.scalars(select(Village).where(Village.area_code == code)):
        village.name = area.name
    session.flush()
    write_audit(
        session, now, actor=actor, action="area.rename", entity="area", entity_id=code,
        detail={"from": old, "to": area.name},
    )  # fmt: skip
    return view(session, area)


def move_area(
    session: Session, now: datetime, code: str, parent: str | None, *, actor: str | None = None
) -> AreaView:
    """Put an area under another parent; refuses cycles, wrong levels and retired parents."""
    area = _get(session, code)
    parent_area = _get(session, parent) if parent is not None else None
    if parent is not None and parent in area_tree.subtree(session, code):
        raise AreaCycle(
            f"Không thể chuyển {area.code} ({area.name}) vào {parent}: {parent} nằm trong chính "
            f"{area.code}, cây địa bàn sẽ thành vòng. Chọn cấp trên nằm ngoài {area.code}."
        )
    check_parent(area.level, parent_area, code)
    old, area.parent_code = area.parent_code, parent
    if area.level == "village":
        for village in session.scalars(select(Village).where(Village.area_code == code)):
            village.commune_id = _commune_of(session, area)
    session.flush()
    write_audit(
        session, now, actor=actor, action="area.move", entity="area", entity_id=code,
        detail={"from": old, "to": parent},
    )  # fmt: skip
    return view(session, area)


def retire_area(session: Session, now: datetime, code: str, *, actor: str | None = None) -> AreaView:
    """Retire an area that nothing depends on any more; refuses, naming what still does."""
    area = _get(session, code)
    codes = area_tree.subtree(session, code)
    children = session.scalars(
        select(Area.code).where(Area.parent_code == code, Area.retired.is_(False)).order_by(Area.code)
    ).all()
    villages = area_tree.villages_in(session, codes)
    clusters = sorted(session.scalars(select(Device.id).where(Device.village_id.in_(villages))))
    bulletins = area_tree.bulletins_targeting(session, codes)
    reasons = []
    if children:
        reasons.append(f"địa bàn con còn hoạt động: {_first(children)}")
    if clusters:
        reasons.append(f"cụm loa: {_first(clusters)}")
    if bulletins:
        reasons.append(f"bản tin chờ duyệt hoặc đã duyệt: {_first([f'#{b}' for b in bulletins])}")
    if reasons:
        raise AreaInUse(
            f"Chưa thể ngừng {area.code} ({area.name}) vì còn {'; '.join(reasons)}. "
            "Hãy chuyển hoặc ngừng chúng, huỷ các bản tin đó, rồi thử lại."
        )
    area.retired = True
    session.flush()
    write_audit(session, now, actor=actor, action="area.retire", entity="area", entity_id=code)
    return view(session, area)


def _first(items: Sequence[str], shown: int = 5) -> str:
    more = f" và {len(items) - shown} mục khác" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more
