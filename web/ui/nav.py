"""What the header shows on every page: the number of bulletins waiting for approval.

Owns that figure for the base template (a template global, read only when the header draws it); the
emergency button itself is plain markup in base.html. Must not change anything.
"""

from typing import Any

from flask import Flask

from controller import services
from web.context import web_context
from web.ui import session as ui_session


def pending_count() -> int:
    """Pending bulletins under the signed-in approver's area (0 for anyone who may not approve)."""
    user = ui_session.current_user()
    if user is None or not services.can(user, "bulletin.approve"):
        return 0
    with web_context().db.session() as db:
        scope = ui_session.user_scope(db, user)
        return services.count_bulletins(db, status="pending", commune_id=user.commune_id, scope=scope)


def install(app: Flask) -> None:
    """Make `pending_count()` available to the templates."""

    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"pending_count": pending_count}
