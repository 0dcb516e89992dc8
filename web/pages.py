"""The landing page at `/`: signed-in people go to their bulletins, everyone else sees what this is.

Owns only `/`; the operator UI is web.ui and JSON is web.api. Must not change anything.
"""

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from web.ui.session import current_user

pages = Blueprint("pages", __name__, template_folder="templates")


@pages.get("/")
def index() -> str | Response:
    """The landing page, or the bulletin list for a signed-in user."""
    if current_user() is not None:
        return redirect(url_for("ui_bulletins.index"))
    return render_template("index.html")
