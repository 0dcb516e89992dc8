"""`POST /api/v1/streaming/listener-auth`: Icecast asks whether a listener may hear a mount.

Icecast's URL authentication (`listener_add`) posts a form with `action=listener_add`, the requested
`mount` (with the listener's query, URL-encoded: `/relay-3?expires=…&sig=…`), `client`, `ip` and `agent`,
and lets the listener in only when the answer carries the header `icecast-auth-user: 1`. There is no
bearer token: the signed token in the listener's query is the permission (controller.streaming.listeners).
"""

from apiflask import APIBlueprint
from flask import Response, request

from controller.streaming import ListenerRefused
from controller.streaming.gate import checked_listener
from web.api.errors import ApiError
from web.api.guards import accepts_form
from web.context import web_context

bp = APIBlueprint("streaming", __name__, tag="streaming")


@bp.post("/streaming/listener-auth")
@accepts_form
@bp.doc(
    summary="Icecast's listener check (URL authentication, listener_add); not for people",
    description="Form fields as Icecast sends them (`action`, `mount` with the listener's query, `client`, "
    "`ip`). 200 with `icecast-auth-user: 1` lets the listener in; 403 keeps it out.",
    responses={200: "Listener admitted", 403: "Token missing, forged, for another mount or expired"},
)
def listener_auth() -> Response:
    """Admit a listener whose mount query carries a valid, unexpired listener token."""
    context = web_context()
    action = request.form.get("action", "")
    if action != "listener_add":
        raise ApiError(
            422, f"hành động {action[:40]!r} không được hỗ trợ; Icecast chỉ gửi listener_add", "bad_action"
        )
    requested = request.form.get("mount", "")
    try:
        checked_listener(requested, request.form.get("ip", ""), context.asset_url_secret, context.clock())
    except ListenerRefused as exc:
        raise ApiError(
            403,
            "Thiết bị không được nghe luồng này: mã nghe thiếu, sai hoặc đã hết hạn; hãy lấy kế hoạch mới "
            "từ bộ điều khiển.",
            exc.reason,
            headers={"icecast-auth-message": exc.reason},
        ) from exc
    return Response(status=200, headers={"icecast-auth-user": "1"})
