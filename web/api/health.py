"""`GET /api/v1/health`: is the controller up, and can it reach its database and broker.

Owns the health endpoint only; the runtime's `health()` hook says what the database and MQTT are doing.
No authentication, so load balancers and `make demo` can poll it.
"""

from apiflask import APIBlueprint

from web.api.schemas import HealthOut
from web.context import web_context

bp = APIBlueprint("health", __name__, tag="health")


@bp.get("/health")
@bp.output(HealthOut)
@bp.doc(summary="Health of the controller", responses={503: "The database is not reachable"})
def health() -> tuple[HealthOut, int]:
    """`status` is "ok" while the database answers (MQTT may be down: the API still works), else 503."""
    report = {"db": "unknown", "mqtt": "unknown", **web_context().health()}
    ok = report["db"] == "ok"
    return HealthOut.model_validate({**report, "status": "ok" if ok else "degraded"}), 200 if ok else 503
