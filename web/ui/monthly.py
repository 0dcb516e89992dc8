"""The monthly report per cluster (per commune above a commune): airtime, bulletins, plays and uptime.

Owns the sums of the report. Reads plays, devices and uptime through controller.services; must not
write anything.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from controller import services
from controller.planning.options import EARLIEST_DATE, LATEST_DATE
from controller.services.plays import MAX_PLAYS
from controller.services.views import PlayView, UserView
from web.api.stats import area_statistics
from web.context import web_context
from web.ui import common

COLUMNS: Final = ("device", "name", "village", "airtime_s", "bulletins", "plays", "uptime")


@dataclass(frozen=True)
class Row:
    """One cluster's month."""

    device_id: str
    name: str
    village: str
    airtime_s: int
    bulletins: int
    plays: int
    uptime: float | None


@dataclass(frozen=True)
class Report:
    """The month (YYYY-MM), its rows, and the totals."""

    month: str
    label: str
    rows: list[Row]
    airtime_s: int
    bulletins: int


def _month(value: str | None, today: date) -> date:
    """The first day of month `value` (YYYY-MM) within the dates schedules name, else of today's month."""
    try:
        first = date.fromisoformat(f"{value}-01") if value else None
    except ValueError:
        first = None
    if first is None or not EARLIEST_DATE <= first <= LATEST_DATE:  # 9999-12 overflowed (issue 20)
        return today.replace(day=1)
    return first


def build(month: str | None, me: UserView) -> Report:
    """The report of `month` (YYYY-MM; default: this month): per cluster in a commune, per commune above."""
    context = web_context()
    now = context.clock()
    zone = common.schedule().timezone
    first = _month(month, now.astimezone(zone).date())
    following = (first + timedelta(days=32)).replace(day=1)
    start, end = datetime.combine(first, time(), zone), datetime.combine(following, time(), zone)
    with context.db.session() as db:
        own = services.user_area(db, me)
        above = services.scope_of(db, me).above_commune()
    if above:  # a province or district (DESIGN §11): the same sums per commune, from the statistics
        figures = area_statistics(own, own, start, end)
        communes = [
            Row(c.commune_id, c.name, "", c.airtime_s, c.bulletins, c.plays, c.availability)
            for c in figures.communes
        ]
        played = {i.bulletin_id for i in figures.items if i.bulletin_id is not None}
        return Report(
            month=first.strftime("%Y-%m"), label=f"tháng {first.month}/{first.year}", rows=communes,
            airtime_s=figures.airtime_s, bulletins=len(played),
        )  # fmt: skip
    rows: list[Row] = []
    all_bulletins: set[int] = set()
    with context.db.session() as db:
        villages = {v.id: v.name for v in services.list_villages(db, me.commune_id)}
        devices = services.list_devices(db, now, commune_id=me.commune_id)
        plays = services.list_plays(db, start=start, end=end, limit=MAX_PLAYS)
        finished: dict[str, list[PlayView]] = defaultdict(list)
        for play in plays:
            if play.status == "finished":
                finished[play.device_id].append(play)
        # One batch query for every cluster; a cluster provisioned during the month counts from then.
        until = min(end, now)
        uptimes = services.window_uptime(db, [d.id for d in devices], [(start, until)], now)
        for device in devices:
            mine = finished[device.id]
            airtime = sum(
                (
                    (p.finished_at - p.started_at).total_seconds()
                    for p in mine
                    if p.started_at and p.finished_at
                ),
                0.0,
            )
            bulletins = {p.bulletin_id for p in mine if p.bulletin_id is not None}
            all_bulletins |= bulletins
            uptime = uptimes.get(device.id)
            rows.append(
                Row(
                    device.id,
                    device.name,
                    villages.get(device.village_id, ""),
                    round(airtime),
                    len(bulletins),
                    len(mine),
                    uptime,
                )
            )
    return Report(
        month=first.strftime("%Y-%m"),
        label=f"tháng {first.month}/{first.year}",
        rows=rows,
        airtime_s=sum(r.airtime_s for r in rows),
        bulletins=len(all_bulletins),
    )
