"""`GET /api/v1/assets/{sha256}?expires=&sig=`: audio downloads for edge agents, by signed URL.

Owns checking the URL's signature and expiry and making those URLs for API answers; there is no bearer
token here, the signature is the permission. Signing rules and the URL format are controller.assets.
"""

from datetime import timedelta

from apiflask import APIBlueprint
from flask import Response, request

from controller.assets import AssetUrlError, AssetUrlExpired, sign_asset_url, verify_asset_signature
from controller.i18n import Message
from web.api.errors import ApiError
from web.api.schemas import ResponsesDoc
from web.api.serialize import send_asset
from web.context import web_context

bp = APIBlueprint("assets", __name__, tag="assets")

_RESPONSES: ResponsesDoc = {
    200: {"description": "MP3", "content": {"audio/mpeg": {}}},
    206: {"description": "Part of the MP3 (Range)", "content": {"audio/mpeg": {}}},
    403: {"description": "Bad or expired signature"},
    404: {"description": "Unknown asset"},
    416: {"description": "Range outside the file"},
}


@bp.get("/assets/<sha256>")
@bp.doc(
    summary="Download an audio asset by signed URL (agents); supports Range",
    description="The URL comes signed in a plan item or preview: `?expires=<unix>&sig=<hex>`. "
    "`Range: bytes=a-b` resumes a download (206); ETag is the sha256.",
    responses=_RESPONSES,
)
def download(sha256: str) -> Response:
    """Stream the asset if the URL's signature is valid and unexpired."""
    context = web_context()
    expires, sig = request.args.get("expires"), request.args.get("sig")
    if not expires or not sig:
        raise ApiError(
            403,
            Message(
                "This audio link is not signed. Use the link exactly as the plan gives it (with "
                "expires and sig)."
            ),
        )
    try:
        verify_asset_signature(sha256, expires, sig, context.asset_url_secret, context.clock())
    except AssetUrlExpired as exc:
        raise ApiError(
            403,
            Message("This audio link has expired. Fetch the current plan for a fresh link."),
            "url_expired",
        ) from exc
    except AssetUrlError as exc:
        raise ApiError(
            403,
            Message("This audio link's signature does not match. Use the link exactly as the plan gives it."),
            "bad_signature",
        ) from exc
    return send_asset(sha256)


def signed_asset_url(sha256: str) -> str:
    """A signed download URL for an asset, valid for the configured asset URL lifetime."""
    context = web_context()
    settings = context.settings
    expires_at = context.clock() + timedelta(seconds=settings.http.asset_url_ttl_s)
    return sign_asset_url(settings.asset_base_url, sha256, context.asset_url_secret, expires_at)
