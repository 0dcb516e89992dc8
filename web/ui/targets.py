"""What the compose and emergency forms offer as places to play, under the signed-in user's area (DESIGN §11).

A commune's staff pick all its villages, some villages or some clusters, as before areas existed. Staff of a
district or a province (or of the whole installation) pick everything under their area or some of the
districts and communes under it, as `{"areas": [codes]}`: a province's 1,700 villages and 3,000 clusters
make no form. The service checks every target again when the bulletin is saved (403 outside the area).

Owns these choices and reading the picked targets back from a form; must not change anything.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from controller import services
from controller.services.scope import AreaChoice, Scope, areas_to_choose, devices_for
from controller.services.views import DeviceView, UserView, VillageView

# What each form may pick besides everything under the area; an above-commune form picks areas.
MODES = ("villages", "clusters", "areas")


@dataclass(frozen=True)
class Choices:
    """The places a user may pick: a commune's villages and clusters, or the areas under a district."""

    scope: Scope
    reach: int  # how many clusters "everything" reaches
    villages: list[VillageView] = field(default_factory=list)
    devices: list[DeviceView] = field(default_factory=list)
    areas: list[AreaChoice] = field(default_factory=list)


def choices(db: Session, me: UserView, now: datetime) -> Choices:
    """The places `me` may pick (a commune user's exactly as before areas existed)."""
    scope = services.scope_of(db, me)
    if not scope.above_commune():
        devices = services.list_devices(db, now, commune_id=me.commune_id)
        villages = services.list_villages(db, me.commune_id)
        return Choices(scope, len(devices), villages=villages, devices=devices)
    areas = [a for a in areas_to_choose(db, scope.area) if a.code != scope.area]
    return Choices(scope, len(devices_for(db, {"all": True}, scope)), areas=areas)


def villages_under(db: Session, me: UserView) -> list[VillageView]:
    """The villages under the user's area, by name (a commune's staff: their commune's, as before)."""
    if me.commune_id is not None:
        return services.list_villages(db, me.commune_id)
    scope = services.scope_of(db, me)
    return [v for v in services.list_villages(db) if scope.covers(v.commune_id)]


def targets_of(form: MultiDict[str, str]) -> dict[str, Any]:
    """The targets the form picked: all, or some villages, clusters or areas."""
    mode = form.get("target_mode", "all")
    if mode in MODES:
        return {mode: form.getlist(mode)}
    return {"all": True}


def reached(db: Session, targets: dict[str, Any], offered: Choices) -> set[str]:
    """The ids of the clusters the picked targets reach, among those the user may target."""
    return set(devices_for(db, targets, offered.scope))
