"""The Flask application factory: one APIFlask app with a blueprint per API area and the landing page.

Owns assembling the app (config, error handlers, guards, blueprints, OpenAPI); it must not open sockets,
start threads or touch MQTT: the runtime calls `create_app` and serves the result.
"""

from typing import Any

from apiflask import APIFlask
from werkzeug.middleware.proxy_fix import ProxyFix

from web import access_log, apt, headers, i18n
from web.api import (
    areas,
    assets,
    auth,
    bulletins,
    cap,
    devices,
    errors,
    guards,
    health,
    inbox,
    lexicon,
    live,
    metrics,
    openapi_errors,
    plays,
    stations,
    stats,
    streaming,
    tts,
    updates,
    users,
)
from web.context import WebContext, install
from web.pages import pages
from web.public import BLUEPRINTS as PUBLIC_BLUEPRINTS
from web.ui import register as register_ui

API_PREFIX = "/api/v1"

# Every error body has this shape (DESIGN §8); the OpenAPI documents it for each 4xx/5xx.
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {}}},
            },
        }
    },
}


def create_app(services: WebContext) -> APIFlask:
    """Build the web app around the runtime's context (database, settings, clock, hooks)."""
    app = APIFlask(
        __name__,
        title="loaxa",
        version="1",
        spec_path=f"{API_PREFIX}/openapi.json",
        docs_path=f"{API_PREFIX}/docs",
    )
    app.config.update(
        HTTP_ERROR_SCHEMA=_ERROR_SCHEMA,
        VALIDATION_ERROR_SCHEMA=_ERROR_SCHEMA,
        VALIDATION_ERROR_STATUS_CODE=422,
        INFO={"description": "REST API of loaxa, a commune's smart loudspeaker system (DESIGN §8)."},
    )
    install(app.extensions, services)
    i18n.install(app)
    errors.register(app)
    guards.register(app)
    headers.register(app)
    for blueprint in (
        auth.bp,
        users.bp,
        areas.bp,
        bulletins.bp,
        devices.bp,
        tts.bp,
        lexicon.bp,
        plays.bp,
        inbox.bp,
        stats.bp,
        health.bp,
        assets.bp,
        updates.bp,
        streaming.bp,
        stations.bp,
        cap.bp,
        live.bp,
    ):
        app.register_blueprint(blueprint, url_prefix=API_PREFIX)
    # APIFlask keeps one spec processor: the upload body, the CAP push body, then the app-wide error answers.
    app.spec_processor(
        lambda spec: openapi_errors.document_errors(cap.document_push(bulletins.document_upload(spec)))
    )
    metrics.register(app, services)
    access_log.register(app)
    app.register_blueprint(pages)
    app.register_blueprint(apt.bp)
    for public in PUBLIC_BLUEPRINTS:
        app.register_blueprint(public)
    register_ui(app, services)
    hops = services.settings.trusted_proxies
    if hops:  # behind N reverse proxies: the client address, scheme and host are the ones they forward
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app
