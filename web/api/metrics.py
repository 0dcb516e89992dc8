"""`GET /metrics`: the Prometheus text format, for an admin's bearer token or the metrics token (DESIGN §8).

Owns the endpoint, its access check and the HTTP figures (requests by route, method and status; time
taken by route), which it adds to the registry the runtime hands over with the controller's own figures
(controller.metrics). It serves what the registry holds and computes nothing else.
"""

import hmac
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from controller.i18n import Message
from controller.services import users
from controller.services.errors import AuthenticationFailed
from web.api.errors import ApiError
from web.context import WebContext, web_context

bp = Blueprint("metrics", __name__)
_EXTENSION = "loaxa_metrics"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="loaxa-metrics"'}


def register(app: Flask, context: WebContext) -> None:
    """Serve /metrics and count every request of this app into the context's registry."""
    registry = context.metrics if context.metrics is not None else CollectorRegistry()
    requests = Counter(
        "loaxa_http_requests", "HTTP requests by route, method and status.", ["route", "method", "status"],
        registry=registry,
    )  # fmt: skip
    seconds = Histogram(
        "loaxa_http_request_seconds", "Time to answer, by route.", ["route"], registry=registry
    )
    app.extensions[_EXTENSION] = registry

    @app.before_request
    def _started() -> None:
        g.loaxa_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        # The route pattern, not the path: one series per endpoint however many ids are asked for.
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        requests.labels(route, request.method, str(response.status_code)).inc()
        if "loaxa_started" in g:
            seconds.labels(route).observe(time.perf_counter() - g.loaxa_started)
        return response

    app.register_blueprint(bp)


def _check_token() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401, Message(
"GET /metrics needs 'Authorization: Bearer <token>': an administrator's "
"or the metrics token."),
            headers=_CHALLENGE,
        )  # fmt: skip
    context = web_context()
    expected = context.settings.metrics_token
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return
    try:
        with context.db.session() as session:
            user = users.user_for_token(session, token, context.clock())
    except AuthenticationFailed as exc:
        raise ApiError(401, exc.text, headers=_CHALLENGE) from exc
    if user.role != "admin":
        raise ApiError(
            403,
            Message("Only an administrator or the metrics token (LOAXA_METRICS_TOKEN) may read /metrics."),
        )


@bp.get("/metrics")
def metrics() -> Response:
    """The registry in the Prometheus text format."""
    _check_token()
    body = generate_latest(current_app.extensions[_EXTENSION])
    return Response(body, content_type=CONTENT_TYPE_LATEST)
