"""The server-rendered HTML pages; for now only the Vietnamese landing page at `/`.

Owns HTML routes and their templates; must not serve JSON (that is web.api) or call services that change
anything. The full operator UI is a later issue.
"""

from flask import Blueprint, render_template

pages = Blueprint("pages", __name__, template_folder="templates")


@pages.get("/")
def index() -> str:
    """The landing page: what this system is and where the API documentation lives."""
    return render_template("index.html")
