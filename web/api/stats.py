"""`GET /api/v1/stats?area=&from=&to=`: statistics of an area over a period, as JSON or CSV (DESIGN §11).

Owns the HTTP side: the query, the check that the area lies under the user's, content negotiation and the
CSV layout (`table=items|clusters|outages|communes`). The sums are controller.services.stats.
"""

import csv
import io
from datetime import date, datetime
from typing import Literal

from apiflask import APIBlueprint
from flask import Response, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from controller import services
from controller.planning import load_schedule
from controller.planning.windows import occurrences
from controller.services import area_tree, areas, stats
from controller.services.errors import OutOfScope
from controller.services.scope import area_scope
from controller.services.stats import AreaStats
from protocol.timefmt import format_utc
from web.api.plays import CSV_MIME
from web.api.schemas import ResponsesDoc
from web.api.security import permit, token_auth
from web.context import web_context

bp = APIBlueprint("stats", __name__, tag="stats")
_CSV: ResponsesDoc = {
    200: {"description": "Statistics (JSON, or CSV)", "content": {CSV_MIME: {"schema": {"type": "string"}}}},
}
_RESPONSES: ResponsesDoc = {
    **_CSV,
    403: {"description": "Area outside the user's (out_of_scope)"},
    404: {"description": "No such area"},
}
Table = Literal["items", "clusters", "outages", "communes"]


class StatsQuery(BaseModel):
    """The area (default: the user's) and the period [from, to)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    area: str | None = None
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    table: Table = "items"


class ItemDayOut(BaseModel):
    """Plays and seconds on air of one bulletin on one local day."""

    bulletin_id: int | None
    title: str
    day: date
    plays: int
    airtime_s: int


class ClusterOut(BaseModel):
    """Share of window time a cluster was reachable."""

    device_id: str
    commune_id: str
    village_id: str
    availability: float | None


class OutageOut(BaseModel):
    """A stretch without heartbeats: cause restart, network or ongoing."""

    device_id: str
    commune_id: str
    start: datetime
    end: datetime | None
    cause: str


class CommuneTotalsOut(BaseModel):
    """A commune's sums."""

    commune_id: str
    name: str
    clusters: int
    plays: int
    airtime_s: int
    availability: float | None
    outages: int


class StatsOut(BaseModel):
    """The statistics of an area over a period."""

    area: str | None
    start: datetime
    end: datetime
    plays: int
    airtime_s: int
    items: list[ItemDayOut]
    clusters: list[ClusterOut]
    outages: list[OutageOut]
    communes: list[CommuneTotalsOut]


def area_statistics(user_area: str | None, area: str | None, start: datetime, end: datetime) -> AreaStats:
    """The statistics of `area` (default: the user's), refused outside the user's area; for the page too."""
    context = web_context()
    windows = load_schedule(context.settings.schedule)
    spans = [(o.start, o.end) for o in occurrences(windows, start, end)]
    with context.db.session() as session:
        chosen = area if area is not None else user_area
        if chosen is not None:
            areas.get_area(session, chosen)  # NotFound for an unknown code
        if user_area is not None and (chosen is None or chosen not in area_tree.subtree(session, user_area)):
            raise OutOfScope(
                f"Không xem được thống kê của {chosen or 'toàn hệ thống'}: nằm ngoài địa bàn {user_area} "
                "của bạn. Chọn một địa bàn thuộc quyền bạn."
            )
        return stats.area_stats(
            session, area_scope(session, chosen), start, end, context.clock(), windows=spans,
            zone=windows.timezone,
        )  # fmt: skip


@bp.get("/stats")
@bp.auth_required(token_auth)
@bp.input(StatsQuery, location="query", arg_name="query")
@bp.output(StatsOut)
@bp.doc(
    summary="Plays and airtime per item and day, cluster availability in windows, outages, per commune",
    description="Send Accept: text/csv for CSV of one `table` (items, clusters, outages or communes).",
    responses=_RESPONSES,
)
def get_stats(query: StatsQuery) -> StatsOut | Response:
    """The statistics of an area over [from, to) (at most 92 days)."""
    user = permit("stats.read")
    with web_context().db.session() as session:
        own = services.user_area(session, user)
    result = area_statistics(own, query.area, query.from_, query.to)
    out = StatsOut(
        area=result.area, start=result.start, end=result.end, plays=result.plays, airtime_s=result.airtime_s,
        items=[ItemDayOut.model_validate(i, from_attributes=True) for i in result.items],
        clusters=[ClusterOut.model_validate(c, from_attributes=True) for c in result.clusters],
        outages=[OutageOut.model_validate(o, from_attributes=True) for o in result.outages],
        communes=[CommuneTotalsOut.model_validate(c, from_attributes=True) for c in result.communes],
    )  # fmt: skip
    if request.accept_mimetypes.best_match(["application/json", CSV_MIME]) == CSV_MIME:
        return _csv(out, query.table)
    return out


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return format_utc(value)
    return "" if value is None else value


def _csv(out: StatsOut, table: Table) -> Response:
    rows: list[BaseModel] = list(getattr(out, table))
    models: dict[str, type[BaseModel]] = {
        "items": ItemDayOut, "clusters": ClusterOut, "outages": OutageOut, "communes": CommuneTotalsOut,
    }  # fmt: skip
    columns = list(models[table].model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(getattr(row, c)) for c in columns])
    response = Response(buffer.getvalue(), mimetype=CSV_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="stats-{table}.csv"'
    return response
