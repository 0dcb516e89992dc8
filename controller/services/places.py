"""Communes and villages: where devices stand and which languages their listeners speak.

Owns communes and villages by their own ids; each also gets its area (controller.services.areas), whose
code is the id unless the commune's official code is given. Must not know devices or bulletins.
"""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Commune, Village
from controller.i18n import Message
from controller.services.areas import check_code, insert_area
from controller.services.audit import write_audit
from controller.services.errors import Conflict, NotFound, ValidationFailed
from controller.services.views import VillageView

SLUG: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_LANGUAGE: Final = re.compile(r"[a-z]{2,8}(?:-[a-z0-9]{1,8})*")


def check_slug(value: str, what: Message) -> str:
    """A lowercase id: letters a–z, digits and inner '-', at most 64 characters."""
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise ValidationFailed(
            Message(
                "{what} {value} is not valid. Use 1–64 lowercase letters a–z without accents, digits and '-' "
                "(not first or last), such as tule-c01.",
                what=what,
                value=repr(value)[:80],
            )
        )
    return value


def _view(village: Village) -> VillageView:
    return VillageView(
        id=village.id, name=village.name, commune_id=village.commune_id, languages=tuple(village.languages)
    )


def create_commune(
    session: Session,
    commune_id: str,
    name: str,
    now: datetime,
    *,
    timezone: str = "Asia/Ho_Chi_Minh",
    code: str | None = None,
    parent: str | None = None,
) -> None:
    """Create a commune and its area: by its official 5-digit `code` under district `parent` if given.

    Without a code the commune's id is its area's code: a commune running loaxa on its own, as before
    areas existed.
    """
    check_slug(commune_id, Message("The commune code"))
    if session.get(Commune, commune_id) is not None:
        raise Conflict(
            Message("The commune {commune} exists already. Choose another code.", commune=commune_id)
        )
    if code is not None:
        check_code(code, "commune")
    area = insert_area(session, now, code=code or commune_id, name=name, level="commune", parent=parent)
    session.add(
        Commune(id=commune_id, name=area.name, timezone=timezone, area_code=area.code, created_at=now)
    )
    session.flush()
    write_audit(session, now, actor=None, action="commune.create", entity="commune", entity_id=commune_id)


def create_village(
    session: Session, village_id: str, now: datetime, *, name: str, commune_id: str, languages: Sequence[str]
) -> VillageView:
    """Create a village with the languages of its listeners (e.g. ["vi", "thai"])."""
    check_slug(village_id, Message("The village code"))
    commune = session.get(Commune, commune_id)
    if commune is None:
        raise NotFound(Message("The commune {commune} does not exist. Create it first.", commune=commune_id))
    if session.get(Village, village_id) is not None:
        raise Conflict(
            Message("The village {village} exists already. Choose another code.", village=village_id)
        )
    bad = [lang for lang in languages if not _LANGUAGE.fullmatch(lang)]
    if not languages or bad:
        raise ValidationFailed(
            Message("The village's languages are not valid. Give short lowercase codes such as vi or thai.")
        )
    area = insert_area(session, now, code=village_id, name=name, level="village", parent=commune.area_code)
    village = Village(
        id=village_id,
        name=area.name,
        commune_id=commune_id,
        languages=list(dict.fromkeys(languages)),
        area_code=area.code,
        created_at=now,
    )
    session.add(village)
    session.flush()
    write_audit(session, now, actor=None, action="village.create", entity="village", entity_id=village_id)
    return _view(village)


def list_villages(session: Session, commune_id: str | None = None) -> list[VillageView]:
    """Villages by name, optionally of one commune."""
    query = select(Village).order_by(Village.name, Village.id)
    if commune_id is not None:
        query = query.where(Village.commune_id == commune_id)
    return [_view(v) for v in session.scalars(query)]


def commune_names(session: Session, commune_ids: Sequence[str]) -> dict[str, str]:
    """Commune id → name for the given ids (one query)."""
    if not commune_ids:
        return {}
    rows = session.execute(select(Commune.id, Commune.name).where(Commune.id.in_(set(commune_ids))))
    return {commune_id: name for commune_id, name in rows}
