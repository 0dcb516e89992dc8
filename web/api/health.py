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
    """`status` is "ok" while the database answers and planning works, else "degraded".

    503 only when the database does not answer: MQTT down or a bulletin that cannot be planned leave the
    API working, so a load balancer keeps this process; `planning.left_out` names what is not planned.
    """
    report = {"db": "unknown", "mqtt": "unknown", **web_context().health()}
    reachable = report["db"] == "ok"
    planning = report.get("planning") or {"state": "ok"}
    ok = reachable and planning["state"] == "ok"
    answer = HealthOut.model_validate({**report, "status": "ok" if ok else "degraded"})
    return answer, 200 if reachable else 503
