"""The server-rendered Vietnamese UI for operators, approvers and admins (issue 6): one blueprint per area.

Owns the HTML pages, their session login and CSRF, templates under web/templates/ui and web/static.
Handlers call controller.services and the runtime's hooks in WebContext; they never use SQLAlchemy or
MQTT directly, and never serve JSON (that is web.api).
"""

from flask import Flask

from web.context import WebContext
from web.ui import (
    auth,
    bulletins,
    cap,
    common,
    compose,
    device_admin,
    devices,
    drills,
    emergency,
    inbox,
    lexicon,
    live,
    nav,
    relay,
    reports,
    schedule,
    session,
    stats,
    updates,
)

BLUEPRINTS = (
    auth.bp,
    bulletins.bp,
    compose.bp,
    schedule.bp,
    devices.bp,
    device_admin.bp,
    reports.bp,
    emergency.bp,
    live.bp,
    relay.bp,
    updates.bp,
    drills.bp,
    cap.bp,
    lexicon.bp,
    inbox.bp,
    stats.bp,
)


def register(app: Flask, context: WebContext) -> None:
    """Configure the session cookie and register every UI blueprint and template helper."""
    session.configure(app, context)
    common.install_helpers(app)
    nav.install(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


__all__ = ["BLUEPRINTS", "register"]
