"""`POST /api/v1/tts/preview`: how a text will be read, and a link to hear it.

Owns the preview endpoint; normalizing and synthesizing are the runtime's `render_preview` hook (text
to speech and the asset store), and the link is a signed asset URL like the agents get.
"""

from apiflask import APIBlueprint

from web.api.assets import signed_asset_url
from web.api.schemas import PreviewIn, PreviewOut
from web.api.security import permit, token_auth
from web.context import web_context

bp = APIBlueprint("tts", __name__, tag="tts")


@bp.post("/tts/preview")
@bp.auth_required(token_auth)
@bp.input(PreviewIn, arg_name="body")
@bp.output(PreviewOut)
@bp.doc(summary="Preview the normalized text and its audio", responses={503: "No speech engine available"})
def preview(body: PreviewIn) -> PreviewOut:
    """Normalize and synthesize `text`; the audio URL is signed and expires like an agent's."""
    permit("bulletin.create")
    normalized, sha256, engine = web_context().render_preview(body.text)
    return PreviewOut(
        normalized_text=normalized, audio_url=signed_asset_url(sha256), engine=engine, sha256=sha256
    )
