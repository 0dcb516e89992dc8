"""Public audio by content address: `/nghe-lai/audio/<sha256>.mp3`, and the SHA-1 digests CAP asks for.

Owns serving a public bulletin's audio file (with Range, cached by any proxy: the name is the content's
hash) and computing a file's SHA-1 once per process. Must not serve a file that is not public.
"""

import functools
import hashlib
from pathlib import Path

from flask import Blueprint, Response, send_file, url_for

from controller.assets.store import is_sha256
from controller.services.public_feeds import public_asset
from web.api.errors import ApiError
from web.context import web_context

bp = Blueprint("public_audio", __name__)
_CHUNK = 1024 * 1024


@bp.get("/nghe-lai/audio/<sha256>.mp3")
def audio(sha256: str) -> Response:
    """The MP3 of a public bulletin's version; 404 for anything else."""
    context = web_context()
    with context.db.session() as session:
        found = public_asset(session, sha256) if is_sha256(sha256) else None
    if found is None or not context.assets.exists(sha256):
        raise ApiError(
            404, "Không có bản ghi âm công khai nào như vậy; quay lại trang Nghe lại để chọn bản tin."
        )
    response = send_file(
        context.assets.path(sha256), mimetype=found.mime, conditional=True, max_age=365 * 24 * 3600
    )
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def audio_url(sha256: str) -> str:
    """The absolute public URL of an audio file."""
    return url_for("public_audio.audio", sha256=sha256, _external=True)


def sha1_of(sha256: str) -> str:
    """The SHA-1 hex digest of a stored audio file (CAP 1.2 <digest>)."""
    return _sha1(web_context().assets.path(sha256))


@functools.lru_cache(maxsize=4096)
def _sha1(path: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
