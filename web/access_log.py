"""The HTTP access log: one line per request on the `loaxa.access` logger, without secrets.

Owns what a line says: method, path (never the query string: signed asset URLs and `next` targets live
there), status, time taken, client address (the real one behind a trusted proxy) and the signed-in user.
Successful polls of /api/v1/health and /metrics are left out: monitors ask every few seconds.
"""

import logging
import time

from flask import Flask, Response, g, request

log = logging.getLogger("loaxa.access")
_POLLED = frozenset({"/api/v1/health", "/metrics"})


def register(app: Flask) -> None:
    """Log every request this app answers."""

    @app.before_request
    def _started() -> None:
        g.loaxa_access_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        if request.path in _POLLED and response.status_code < 400:
            return response
        took_ms = (time.perf_counter() - g.get("loaxa_access_started", time.perf_counter())) * 1000
        user = g.get("loaxa_user")
        log.info(
            "%s %s %s %.0fms client=%s user=%s",
            request.method, request.path, response.status_code, took_ms, request.remote_addr,
            getattr(user, "username", "-"),
        )  # fmt: skip
        return response
