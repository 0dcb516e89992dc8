"""The web side of the controller: the Flask app factory, the REST API /api/v1 and the HTML pages.

Owns HTTP only. It is handed its database, settings, clock and side-effect hooks in a `WebContext` by the
controller runtime, calls controller.services for every rule, and never talks to MQTT or SQL directly.
"""

from web.app import create_app
from web.context import WebContext

__all__ = ["WebContext", "create_app"]
