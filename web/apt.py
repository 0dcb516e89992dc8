"""`/apt/...`: the controller's signed apt repository (controller.apt_repo), for the Pis' apt.

Owns serving those files read-only, without login: apt trusts what the repository's key signed, not the
channel, and a Pi has no user to sign in with. Nothing outside data_dir/apt is reachable from here.
"""

from flask import Blueprint, Response, send_from_directory

from web.context import web_context

bp = Blueprint("apt", __name__)


@bp.get("/apt/<path:path>")
def repository_file(path: str) -> Response:
    """One file of the repository (404 for anything else, traversal included)."""
    return send_from_directory(web_context().settings.data_dir.resolve() / "apt", path)
