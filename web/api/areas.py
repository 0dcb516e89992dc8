"""`/api/v1/areas`: the area tree (province → district → commune → village), admin only.

Owns the HTTP side of areas; the tree's rules are controller.services.areas and every change goes
through controller.usecases.areas.
"""

from apiflask import APIBlueprint

from controller.services import areas as area_services
from controller.services.areas import AreaView
from web.api.schemas import AreaIn, AreaList, AreaOut, AreaPatch
from web.api.security import permit, token_auth
from web.context import web_context

bp = APIBlueprint("areas", __name__, tag="areas")
_REFUSED = {
    404: "No such area, or no such parent",
    409: "Code taken (area_exists), a cycle (area_cycle), a retired parent (area_retired), or the area "
    "is still in use (area_in_use)",
}


def _out(view: AreaView) -> AreaOut:
    return AreaOut(
        code=view.code, name=view.name, level=view.level, parent=view.parent, lat=view.lat, lon=view.lon,
        languages=list(view.languages), retired=view.retired,
    )  # fmt: skip


@bp.get("/areas")
@bp.auth_required(token_auth)
@bp.output(AreaList)
@bp.doc(summary="List the areas in service, top level first (admin)")
def list_all() -> AreaList:
    """Every area that is not retired, by level then code."""
    permit("area.manage")
    with web_context().db.session() as session:
        views = area_services.list_areas(session)
    return AreaList(items=[_out(view) for view in views])


@bp.post("/areas")
@bp.auth_required(token_auth)
@bp.input(AreaIn, arg_name="body")
@bp.output(AreaOut, status_code=201)
@bp.doc(summary="Create an area under its parent (admin)", responses=_REFUSED)
def create(body: AreaIn) -> AreaOut:
    """Create a province, district, commune or village."""
    user = permit("area.manage")
    view = web_context().areas.create(
        code=body.code, name=body.name, level=body.level, parent=body.parent, lat=body.lat, lon=body.lon,
        languages=body.languages, actor=user.username,
    )  # fmt: skip
    return _out(view)


@bp.patch("/areas/<code>")
@bp.auth_required(token_auth)
@bp.input(AreaPatch, arg_name="body")
@bp.output(AreaOut)
@bp.doc(summary="Rename an area or move it under another parent (admin)", responses=_REFUSED)
def change(code: str, body: AreaPatch) -> AreaOut:
    """Apply a new name, a new parent (null: the area stands alone), or both in one transaction."""
    user = permit("area.manage")
    view = web_context().areas.change(
        code, name=body.name, parent=body.parent, move="parent" in body.model_fields_set, actor=user.username
    )
    return _out(view)


@bp.post("/areas/<code>/retire")
@bp.auth_required(token_auth)
@bp.output(AreaOut)
@bp.doc(summary="Retire an area nothing depends on any more (admin)", responses=_REFUSED)
def retire(code: str) -> AreaOut:
    """Retire the area; refused with area_in_use, naming what still depends on it."""
    user = permit("area.manage")
    return _out(web_context().areas.retire(code, actor=user.username))
