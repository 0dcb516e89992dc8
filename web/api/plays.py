"""`GET /api/v1/plays`: the as-run log (what played where, when) under the user's area, as JSON or CSV.

Owns the HTTP side of the log: query parameters, content negotiation and the CSV layout. The log
itself is controller.services.plays.
"""

import csv
import io

from apiflask import APIBlueprint
from flask import Response, request

from controller import services
from controller.services.scope import devices_in
from protocol.timefmt import format_utc
from web.api.schemas import PlayList, PlayOut, PlaysQuery, ResponsesDoc
from web.api.security import permit, token_auth
from web.api.serialize import play_out
from web.context import web_context

bp = APIBlueprint("plays", __name__, tag="plays")

CSV_MIME = "text/csv"
_CSV_RESPONSE: ResponsesDoc = {
    200: {"description": "As-run log (JSON, or CSV)", "content": {CSV_MIME: {"schema": {"type": "string"}}}}
}
_CSV_COLUMNS = ("bulletin_id", "device", "started_at", "finished_at", "status")


@bp.get("/plays")
@bp.auth_required(token_auth)
@bp.input(PlaysQuery, location="query", arg_name="query")
@bp.output(PlayList)
@bp.doc(
    summary="As-run log; send Accept: text/csv for CSV",
    responses=_CSV_RESPONSE,
)
def as_run(query: PlaysQuery) -> PlayList | Response:
    """Plays in [from, to), optionally for one device or bulletin, oldest first."""
    user = permit("plays.read")
    with web_context().db.session() as session:
        scope = services.scope_of(session, user)
        views = services.list_plays(
            session, start=query.from_, end=query.to, device_id=query.device, bulletin_id=query.bulletin,
            among=None if scope.unlimited else devices_in(scope),
        )  # fmt: skip
    items = [play_out(view) for view in views]
    if request.accept_mimetypes.best_match(["application/json", CSV_MIME]) == CSV_MIME:
        return _csv(items)
    return PlayList(items=items)


def _csv(items: list[PlayOut]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_CSV_COLUMNS)
    for item in items:
        writer.writerow(
            [
                "" if item.bulletin_id is None else item.bulletin_id,
                item.device,
                "" if item.started_at is None else format_utc(item.started_at),
                "" if item.finished_at is None else format_utc(item.finished_at),
                item.status,
            ]
        )
    response = Response(buffer.getvalue(), mimetype=CSV_MIME)
    response.headers["Content-Disposition"] = 'attachment; filename="plays.csv"'
    return response
