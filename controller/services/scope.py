"""What a user may see and target: everything under their area (DESIGN §11), and what a target reaches.

A user's area is a province, a district or a commune (`users.area_code`); a user of a commune from before
areas existed has that commune's area; a user with neither sees the whole installation. Everything below
an area lies in its communes, so a scope is the set of commune ids under the area.

Targets (DESIGN §8): `{"all": true}` (everything under the sender's area), `{"villages": [ids]}`,
`{"clusters": [device ids]}` and `{"areas": [codes]}` (districts, communes or villages). `devices_for`
resolves any of them to exactly the clusters under it; `refused_targets` names what lies outside a scope.

Owns these reads and the refusal; must not change anything.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import CompoundSelect, Select, select
from sqlalchemy.orm import Session

from controller.db.models import Area, Bulletin, Commune, Device, InboxEntry, Village
from controller.services import area_tree
from controller.services.errors import TargetOutOfScope, UnknownTarget
from controller.services.views import UserView

# The levels a user may work at; a village is run by its commune's staff.
USER_LEVELS: Final = ("province", "district", "commune")
LEVEL_DEPTH: Final = {"province": 0, "district": 1, "commune": 2, "village": 3}


@dataclass(frozen=True)
class Scope:
    """The area a user works in and the ids of the communes under it (None: no limit at all)."""

    area: str | None
    level: str | None
    communes: frozenset[str] | None

    @property
    def unlimited(self) -> bool:
        """Whether this scope is the whole installation."""
        return self.communes is None

    def covers(self, commune_id: str | None) -> bool:
        """Whether the commune lies under this scope (a record of no commune only in an unlimited one)."""
        return self.communes is None or commune_id in self.communes

    def above_commune(self) -> bool:
        """Whether the user works above one commune (province or district staff, or the whole system)."""
        return self.level != "commune"


EVERYTHING: Final = Scope(area=None, level=None, communes=None)


def user_area(session: Session, user: UserView) -> str | None:
    """The code of the user's area: their own, or their commune's; None for the whole installation."""
    if user.area_code is not None:
        return user.area_code
    if user.commune_id is not None:
        return session.scalar(select(Commune.area_code).where(Commune.id == user.commune_id))
    return None


def scope_of(session: Session, user: UserView) -> Scope:
    """The user's scope (a commune's user costs no query: every page asks)."""
    if user.commune_id is not None:  # only users of a commune area have one (users.commune_for_area)
        area = user_area(session, user)
        return Scope(area=area, level="commune", communes=frozenset({user.commune_id}))
    return area_scope(session, user_area(session, user))


def area_scope(session: Session, code: str | None) -> Scope:
    """The scope of an area (None: the whole installation)."""
    if code is None:
        return EVERYTHING
    area = session.get(Area, code)
    if area is None:
        return Scope(area=code, level=None, communes=frozenset())
    return Scope(
        area=code,
        level=area.level,
        communes=frozenset(area_tree.communes_in(session, area_tree.subtree(session, code))),
    )


def bulletin_scope(session: Session, sender_area: str | None, commune_id: str | None) -> Scope:
    """The scope a bulletin was sent in: its sending area's, else its commune's, else everything."""
    if sender_area is not None:
        return area_scope(session, sender_area)
    if commune_id is not None:
        return Scope(area=None, level="commune", communes=frozenset({commune_id}))
    return EVERYTHING


def from_above(session: Session, sender_area: str | None) -> bool:
    """Whether a bulletin sent from this area comes from above the commune (a province or a district)."""
    if sender_area is None:
        return False
    level = session.scalar(select(Area.level).where(Area.code == sender_area))
    return level in ("province", "district")


def devices_in(scope: Scope) -> Select[str]:
    """A query of the ids of the devices under the scope."""
    query = select(Device.id)
    if scope.communes is not None:
        query = query.join(Village, Village.id == Device.village_id).where(
            Village.commune_id.in_(sorted(scope.communes))
        )
    return query


def devices_for(session: Session, targets: Mapping[str, Any], sender: Scope) -> list[str]:
    """The ids of exactly the clusters a target reaches, sorted; `all` means all under the sender's scope.

    A revoked cluster is reached by nothing: it keeps its history but gets no plans.
    """
    query = devices_in(sender).where(Device.revoked_at.is_(None))
    if "villages" in targets:
        query = query.where(Device.village_id.in_(list(targets["villages"])))
    elif "clusters" in targets:
        query = query.where(Device.id.in_(list(targets["clusters"])))
    elif "areas" in targets:
        codes: set[str] = set()
        for code in targets["areas"]:
            codes |= area_tree.subtree(session, code)
        query = query.where(Device.village_id.in_(area_tree.villages_in(session, codes)))
    return list(session.scalars(query.order_by(Device.id)))


def communes_reached(session: Session, device_ids: Iterable[str]) -> dict[str, list[str]]:
    """Commune id → the given devices standing in it."""
    rows = session.execute(
        select(Device.id, Village.commune_id)
        .join(Village, Village.id == Device.village_id)
        .where(Device.id.in_(list(device_ids)))
        .order_by(Device.id)
    )
    out: dict[str, list[str]] = {}
    for device_id, commune_id in rows:
        out.setdefault(commune_id, []).append(device_id)
    return out


def check_in_scope(session: Session, key: str, ids: list[str], scope: Scope) -> None:
    """Refuse ids that do not exist (422), then ids outside the scope (403, naming each)."""
    known, inside = _known_and_inside(session, key, ids, scope)
    unknown = sorted(set(ids) - known)
    if unknown:
        what = {"villages": "thôn/bản", "clusters": "cụm loa", "areas": "địa bàn"}[key]
        raise UnknownTarget(
            f"Không có {what} mã {', '.join(unknown)}: kiểm tra lại danh sách {what} rồi chọn lại."
        )
    refused = sorted(set(ids) - inside)
    if refused:
        raise TargetOutOfScope(
            f"Không được phát tới {', '.join(refused)}: nằm ngoài địa bàn {scope.area} của bạn. "
            "Chỉ chọn nơi thuộc địa bàn mình, hoặc nhờ cấp trên gửi.",
            refused,
        )


def _known_and_inside(session: Session, key: str, ids: list[str], scope: Scope) -> tuple[set[str], set[str]]:
    communes = scope.communes
    if key == "villages":
        rows = session.execute(select(Village.id, Village.commune_id).where(Village.id.in_(ids))).all()
        return {r[0] for r in rows}, {r[0] for r in rows if communes is None or r[1] in communes}
    if key == "clusters":
        rows = session.execute(
            select(Device.id, Village.commune_id)
            .join(Village, Village.id == Device.village_id)
            .where(Device.id.in_(ids))
        ).all()
        return {r[0] for r in rows}, {r[0] for r in rows if communes is None or r[1] in communes}
    areas = session.execute(select(Area.code, Area.retired).where(Area.code.in_(ids))).all()
    live = {code for code, retired in areas if not retired}
    if scope.area is None:
        return live, live
    under = area_tree.subtree(session, scope.area)
    return live, live & under


def visible_bulletin_ids(session: Session, scope: Scope) -> CompoundSelect[int] | None:
    """A query of the ids of the bulletins the scope may see (None: every bulletin).

    Those sent from inside the scope, those of its communes, and those from above in its communes' inboxes.
    """
    if scope.communes is None:
        return None
    areas = area_tree.subtree(session, scope.area) if scope.area is not None else set()
    communes = sorted(scope.communes)
    return (
        select(Bulletin.id)
        .where(Bulletin.sender_area.in_(sorted(areas)) | Bulletin.commune_id.in_(communes))
        .union(select(InboxEntry.bulletin_id).where(InboxEntry.commune_id.in_(communes)))
    )


def sees_bulletin(session: Session, scope: Scope, bulletin_id: int) -> bool:
    """Whether the scope may see this bulletin (the same rule as `visible_bulletin_ids`)."""
    if scope.communes is None:
        return True
    row = session.get(Bulletin, bulletin_id)
    if row is None:
        return False
    if row.commune_id in scope.communes:
        return True
    if (
        row.sender_area is not None
        and scope.area is not None
        and row.sender_area in area_tree.subtree(session, scope.area)
    ):
        return True
    entry = select(InboxEntry.id).where(
        InboxEntry.bulletin_id == bulletin_id, InboxEntry.commune_id.in_(sorted(scope.communes))
    )
    return session.scalar(entry.limit(1)) is not None


@dataclass(frozen=True)
class AreaChoice:
    """An area a user may pick (a province, district or commune in service)."""

    code: str
    name: str
    level: str


def areas_to_choose(session: Session, under: str | None) -> list[AreaChoice]:
    """The provinces, districts and communes in service under `under` (all when None), top level first.

    One query: a province's ~1,700 villages are left out in SQL (the pages that offer areas never list them).
    """
    query = select(Area.code, Area.name, Area.level).where(Area.level != "village", Area.retired.is_(False))
    if under is not None:
        query = query.where(Area.code.in_(sorted(area_tree.subtree(session, under))))
    rows = [AreaChoice(code, name, level) for code, name, level in session.execute(query)]
    return sorted(rows, key=lambda a: (LEVEL_DEPTH[a.level], a.code))
