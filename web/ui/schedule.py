"""The schedule view: per day, window and village, what plays when, window fill, and deferrals.

Owns grouping the planner's answer for people. The answer comes from the runtime's `planning_preview`
hook (a pure `controller.planning.plan` run); this module must not plan or publish anything.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Final

from flask import Blueprint, render_template

from controller import services
from controller.planning import Deferred, Placement, PlanningResult, WindowOccurrence, occurrences
from controller.services import area_board
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


@dataclass
class WindowView:
    """One window occurrence: its placements by village, the fill of its busiest cluster, a picture."""

    window: WindowOccurrence
    by_village: dict[str, list[Placement]] = field(default_factory=dict)
    fill: float = 0.0
    picture: list[Segment] = field(default_factory=list)


def windows_of(result: PlanningResult | None, village_of: dict[str, str]) -> list[WindowView]:
    """The next days' windows with what the planner put in each."""
    now = common.now()
    views = {
        w.key: WindowView(w) for w in occurrences(common.schedule(), now, now + timedelta(days=DAYS_SHOWN))
    }
    placed = result.placements if result is not None else ()
    per_device: dict[tuple[str, str], timedelta] = defaultdict(timedelta)
    for placement in placed:
        view = views.setdefault(placement.window.key, WindowView(placement.window))
        village = village_of.get(placement.device_id, placement.device_id)
        view.by_village.setdefault(village, []).append(placement)
        per_device[(placement.window.key, placement.device_id)] += (
            placement.planned_end - placement.planned_start
        )
    for view in views.values():
        length = view.window.end - view.window.start
        fills = [spent / length for (key, _), spent in per_device.items() if key == view.window.key]
        view.fill = min(1.0, max(fills, default=0.0))
        spans = {
            (p.planned_start, p.planned_end, p.bulletin_id) for ps in view.by_village.values() for p in ps
        }
        view.picture = segments(
            view.window.start, view.window.end, [(lo, hi, "placed", f"#{b}") for lo, hi, b in sorted(spans)]
        )
        view.by_village = {
            village: sorted(items, key=lambda p: (p.planned_start, p.device_id))
            for village, items in sorted(view.by_village.items())
        }
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
            titles = {b.id: b.title for b in services.list_bulletins(db, scope=scope, limit=500)}
        else:
            villages = {v.id: v.name for v in services.list_villages(db, me.commune_id)}
            devices = services.list_devices(db, context.clock(), commune_id=me.commune_id)
            titles = {b.id: b.title for b in services.list_bulletins(db, commune_id=me.commune_id, limit=500)}
            village_of = {d.id: villages.get(d.village_id, d.village_id) for d in devices}
    if result is not None and aggregate:
        result = replace(
            result,
            placements=tuple(p for p in result.placements if p.device_id in village_of),
            deferred=tuple(d for d in result.deferred if d.device_id in village_of),
        )
    deferred: list[Deferred] = list(result.deferred) if result is not None else []
    return render_template(
        "ui/schedule.html",
        windows=windows_of(result, village_of),
        deferred=deferred,
        titles=titles,
        village_of=village_of,
        reasons=DEFER_REASONS,
        wired=result is not None,
        aggregate=aggregate,
    )
