"""The schedule view: per window and village, a timeline picture and what plays when; fill and deferrals.

Relay slots (tiếp sóng) are drawn in a colour of their own and labelled with their station.

Owns grouping the planner's answer for people. The answer comes from the runtime's `planning_preview`
hook (a pure `controller.planning.plan` run); this module must not plan or publish anything.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from flask import Blueprint, render_template

from controller import services
from controller.planning import Deferred, Placement, PlanningResult, WindowOccurrence, occurrences
from controller.services import area_board
from controller.services import stations as station_services
from web.context import web_context
from web.ui import common
from web.ui.session import page, user
from web.ui.timeline import Segment, segments

bp = common.html_errors(Blueprint("ui_schedule", __name__))

DAYS_SHOWN: Final = 2
DEFER_REASONS: Final = {
    "window_full": "Khung giờ đã đầy, chuyển sang khung sau",
    "beyond_horizon": "Chưa tới lượt xếp lịch",
    "expired": "Đã hết hạn",
    "too_long": "Dài hơn khung giờ",
    "no_version": "Không có bản âm thanh phù hợp",
    "unknown_device": "Cụm loa không xác định",
}


@dataclass(frozen=True)
class Slot:
    """One bulletin in one village's window: its first start there, and on how many of the clusters."""

    bulletin_id: int
    start: datetime
    end: datetime
    clusters: int
    relay: str | None = None  # the station's name, for a relay slot


def _span(
    start: datetime, end: datetime, bulletin_id: int, relays: dict[int, str]
) -> tuple[datetime, datetime, str, str]:
    """A picture span: relay slots in their own colour, titled "Tiếp sóng <đài>"."""
    if bulletin_id in relays:
        return start, end, "relay", f"Tiếp sóng {relays[bulletin_id]}"
    return start, end, "placed", f"#{bulletin_id}"


@dataclass
class VillageRow:
    """A village in one window: its timeline picture and the bulletins in it, in order."""

    name: str
    clusters: int
    slots: list[Slot] = field(default_factory=list)
    picture: list[Segment] = field(default_factory=list)


@dataclass
class WindowView:
    """One window occurrence: a row per village, the fill of its busiest cluster, a picture of all."""

    window: WindowOccurrence
    villages: list[VillageRow] = field(default_factory=list)
    fill: float = 0.0
    picture: list[Segment] = field(default_factory=list)


def _village_rows(
    window: WindowOccurrence, placed: list[Placement], village_of: dict[str, str], relays: dict[int, str]
) -> list[VillageRow]:
    """Per village: each bulletin once (its earliest start among the village's clusters), and a picture."""
    clusters = Counter(village_of.values())
    grouped: dict[str, dict[int, list[Placement]]] = defaultdict(lambda: defaultdict(list))
    for placement in placed:
        village = village_of.get(placement.device_id, placement.device_id)
        grouped[village][placement.bulletin_id].append(placement)
    rows = []
    for village, bulletins in sorted(grouped.items()):
        slots = sorted(
            (
                Slot(
                    bulletin_id,
                    min(p.planned_start for p in ps),
                    max(p.planned_end for p in ps),
                    len({p.device_id for p in ps}),
                    relays.get(bulletin_id),
                )
                for bulletin_id, ps in bulletins.items()
            ),
            key=lambda slot: (slot.start, slot.bulletin_id),
        )
        spans = [_span(slot.start, slot.end, slot.bulletin_id, relays) for slot in slots]
        picture = segments(window.start, window.end, spans)
        rows.append(VillageRow(village, clusters.get(village, 0), slots, picture))
    return rows


@dataclass(frozen=True)
class DeferredRow:
    """A bulletin deferred in one village for one reason (and window), on how many of its clusters."""

    bulletin_id: int
    village: str
    reason: str
    window: WindowOccurrence | None
    clusters: int


def deferred_rows(deferred: list[Deferred], village_of: dict[str, str]) -> list[DeferredRow]:
    """Deferrals once per bulletin, village, reason and window, instead of once per cluster."""
    counted = Counter(
        (d.bulletin_id, village_of.get(d.device_id, d.device_id), d.reason, d.window) for d in deferred
    )
    rows = [DeferredRow(b, village, reason, window, n) for (b, village, reason, window), n in counted.items()]
    return sorted(
        rows, key=lambda r: (r.window.start if r.window else common.now(), r.bulletin_id, r.village)
    )


def windows_of(
    result: PlanningResult | None, village_of: dict[str, str], relays: dict[int, str] | None = None
) -> list[WindowView]:
    """The next days' windows with what the planner put in each, village by village.

    `relays` names the station of each relay slot among the bulletins (by bulletin id).
    """
    relays = relays or {}
    now = common.now()
    views = {
        w.key: WindowView(w) for w in occurrences(common.schedule(), now, now + timedelta(days=DAYS_SHOWN))
    }
    placed: dict[str, list[Placement]] = defaultdict(list)
    per_device: dict[tuple[str, str], timedelta] = defaultdict(timedelta)
    for placement in result.placements if result is not None else ():
        views.setdefault(placement.window.key, WindowView(placement.window))
        placed[placement.window.key].append(placement)
        per_device[(placement.window.key, placement.device_id)] += (
            placement.planned_end - placement.planned_start
        )
    for view in views.values():
        length = view.window.end - view.window.start
        fills = [spent / length for (key, _), spent in per_device.items() if key == view.window.key]
        view.fill = min(1.0, max(fills, default=0.0))
        view.villages = _village_rows(view.window, placed[view.window.key], village_of, relays)
        spans = {(p.planned_start, p.planned_end, p.bulletin_id) for p in placed[view.window.key]}
        view.picture = segments(
            view.window.start, view.window.end, [_span(lo, hi, b, relays) for lo, hi, b in sorted(spans)]
        )
    return sorted(views.values(), key=lambda v: v.window.start)


@bp.get("/schedule")
@page("bulletin.read")
def schedule() -> str:
    """What plays when in the next two days, per window and village, and what was deferred."""
    me = user()
    context = web_context()
    result = context.planning_preview() if context.planning_preview is not None else None
    with context.db.session() as db:
        scope = services.scope_of(db, me)
        aggregate = scope.above_commune()  # a province or district: per commune, not per cluster
        if aggregate:
            village_of = area_board.commune_names_by_device(db, scope)
            bulletins = services.list_bulletins(db, scope=scope, limit=500)
        else:
            villages = {v.id: v.name for v in services.list_villages(db, me.commune_id)}
            devices = services.list_devices(db, context.clock(), commune_id=me.commune_id)
            bulletins = services.list_bulletins(db, commune_id=me.commune_id, limit=500)
            village_of = {d.id: villages.get(d.village_id, d.village_id) for d in devices}
        stations = {s.id: s.name for s in station_services.list_stations(db, include_retired=True)}
    titles = {b.id: b.title for b in bulletins}
    relays = {
        b.id: stations.get(b.source["station"], f"#{b.source['station']}")
        for b in bulletins
        if b.source is not None and b.source.get("kind") == "relay"
    }
    if result is not None and aggregate:
        result = replace(
            result,
            placements=tuple(p for p in result.placements if p.device_id in village_of),
            deferred=tuple(d for d in result.deferred if d.device_id in village_of),
        )
    deferred: list[Deferred] = list(result.deferred) if result is not None else []
    return render_template(
        "ui/schedule.html",
        windows=windows_of(result, village_of, relays),
        deferred=deferred_rows(deferred, village_of),
        titles=titles,
        village_of=village_of,
        reasons=DEFER_REASONS,
        wired=result is not None,
        aggregate=aggregate,
    )
