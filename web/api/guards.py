"""Request guards that apply to every API call before its handler: body content type and size.

Owns which media types an endpoint accepts and how large a body may be. Handlers mark the few endpoints
that take multipart uploads with `accepts_uploads`; everything else takes JSON only.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request

from web.api.errors import abort

JSON_LIMIT_BYTES = 1024 * 1024
UPLOAD_LIMIT_BYTES = 25 * 1024 * 1024

_UPLOADS_ATTR = "_loaxa_accepts_uploads"
F = TypeVar("F", bound=Callable[..., object])


def accepts_uploads(view: F) -> F:
    """Mark a view as taking `multipart/form-data` (audio uploads) as well as JSON."""
    setattr(view, _UPLOADS_ATTR, True)
    return view


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _check_body() -> None:
    """Refuse bodies of the wrong media type (415) and set the size limit for this request (413)."""
    if request.method not in ("POST", "PUT", "PATCH") or not _has_body():
        return
    view = current_app.view_functions.get(request.endpoint or "")
    uploads = bool(getattr(view, _UPLOADS_ATTR, False))
    mimetype = request.mimetype
    if mimetype == "multipart/form-data" and uploads:
        request.max_content_length = UPLOAD_LIMIT_BYTES
        return
    if mimetype != "application/json":
        accepted = "application/json or multipart/form-data" if uploads else "application/json"
        abort(415, f"unsupported Content-Type {mimetype or '(none)'!r}: send {accepted}")
    request.max_content_length = JSON_LIMIT_BYTES


def register(app: Flask) -> None:
    """Install the guards and the app-wide upload ceiling."""
    app.config["MAX_CONTENT_LENGTH"] = UPLOAD_LIMIT_BYTES
    app.before_request(_check_body)
