"""`/api/v1/stations`: the stations a commune relays (tiếp sóng), for admins and approvers.

Owns the HTTP side: reading the body, the optional probe of the URLs (its findings are warnings in the
answer, never a refusal), and the answers. Each change goes through controller.usecases.stations.
"""

from apiflask import APIBlueprint

from controller.services import stations as station_services
from controller.services.stations import StationView
from controller.streaming import relay_mount, relayable
from controller.streaming.probe import probe_urls
from web.api.schemas_stations import StationIn, StationList, StationOut, StationPatch
from web.api.security import permit, token_auth
from web.context import web_context

bp = APIBlueprint("stations", __name__, tag="stations")
_REFUSED = {
    403: "Only admins and approvers manage stations",
    404: "No such station",
    409: "Name taken (station_exists) or station retired (station_retired)",
    422: "A name or URL is not valid",
}


def _out(view: StationView, warnings: list[str] | None = None) -> StationOut:
    relayed = not view.retired and any(relayable(url) for url in view.urls)
    return StationOut(
        id=view.id, name=view.name, urls=list(view.urls), retired=view.retired,
        relay_mount=relay_mount(view.id) if relayed else None, created_at=view.created_at,
        updated_at=view.updated_at, warnings=warnings or [],
    )  # fmt: skip


def _warnings(view: StationView, probe: bool) -> list[str]:
    if not probe:
        return []
    return [r.warning for r in probe_urls(view.urls) if r.warning is not None]


@bp.get("/stations")
@bp.auth_required(token_auth)
@bp.output(StationList)
@bp.doc(summary="List the stations in service")
def list_all() -> StationList:
    """Stations in service, by id."""
    user = permit("station.read")
    with web_context().db.session() as session:
        views = station_services.list_stations(session, commune_id=user.commune_id)
    return StationList(items=[_out(view) for view in views])


@bp.post("/stations")
@bp.auth_required(token_auth)
@bp.input(StationIn, arg_name="body")
@bp.output(StationOut, status_code=201)
@bp.doc(summary="Add a station to relay: a name and stream URLs in order", responses=_REFUSED)
def create(body: StationIn) -> StationOut:
    """Add a station; with `probe`, say in `warnings` which URLs carry no audio or do not answer."""
    user = permit("station.manage")
    view = web_context().stations.create(user, name=body.name, urls=body.urls)
    return _out(view, _warnings(view, body.probe))


@bp.patch("/stations/<int:station_id>")
@bp.auth_required(token_auth)
@bp.input(StationPatch, arg_name="body")
@bp.output(StationOut)
@bp.doc(summary="Rename a station or replace its URLs", responses=_REFUSED)
def update(station_id: int, body: StationPatch) -> StationOut:
    """Change a station in service; relay items that name it get its new URLs at the next planning run."""
    user = permit("station.manage")
    view = web_context().stations.update(user, station_id, name=body.name, urls=body.urls)
    return _out(view, _warnings(view, body.probe and body.urls is not None))


@bp.post("/stations/<int:station_id>/retire")
@bp.auth_required(token_auth)
@bp.output(StationOut)
@bp.doc(summary="Take a station out of service (no relay mount, no new relay slots)", responses=_REFUSED)
def retire(station_id: int) -> StationOut:
    """Retire a station; slots already approved that name it are no longer planned."""
    user = permit("station.manage")
    return _out(web_context().stations.retire(user, station_id))
