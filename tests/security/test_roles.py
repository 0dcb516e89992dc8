"""Every /api/v1 route is either public on purpose or needs a token and checks a role (role × endpoint)."""

from typing import Any

import pytest
from flask import g
from flask.testing import FlaskClient

from tests.web.conftest import Runtime
from web import create_app
from web.context import WebContext

ROLES = ("admin", "operator", "approver", "viewer")
EVERYONE = frozenset(ROLES)
WRITERS = frozenset({"admin", "operator"})
APPROVERS = frozenset({"admin", "approver"})
ADMINS = frozenset({"admin"})
PUBLIC = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/assets/<sha256>"),  # the URL's signature is the permission
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/users/reset"),  # the one-time code is the permission
    ("GET", "/api/v1/docs"),
    ("POST", "/api/v1/cap/sources/<int:source_id>/push"),  # the source's own push token is the permission
    ("POST", "/api/v1/streaming/listener-auth"),  # Icecast asks; the URL's signature is the permission
}
LIVE = {"title": "Họp thôn", "targets": {}}
BULLETIN = {"title": "Họp thôn", "text": "Mời bà con họp lúc 8 giờ.", "targets": {"all": True}}
# (method, rule) → (path to call, JSON body, the permission `permit` checks, the roles that hold it)
PROTECTED: dict[tuple[str, str], tuple[str, dict[str, Any] | None, str | None, frozenset[str]]] = {
    ("GET", "/api/v1/bulletins"): ("/api/v1/bulletins", None, "bulletin.read", EVERYONE),
    ("POST", "/api/v1/bulletins"): ("/api/v1/bulletins", BULLETIN, "bulletin.create", WRITERS),
    ("GET", "/api/v1/bulletins/<int:bulletin_id>"): ("/api/v1/bulletins/9", None, "bulletin.read", EVERYONE),
    ("GET", "/api/v1/bulletins/<int:bulletin_id>/audio"): (
        "/api/v1/bulletins/999/audio", None, "bulletin.read", EVERYONE,
    ),
    ("POST", "/api/v1/bulletins/<int:bulletin_id>/submit"): (
        "/api/v1/bulletins/999/submit", None, "bulletin.submit", WRITERS,
    ),
    ("POST", "/api/v1/bulletins/<int:bulletin_id>/approve"): (
        "/api/v1/bulletins/999/approve", None, "bulletin.approve", APPROVERS,
    ),
    ("POST", "/api/v1/bulletins/<int:bulletin_id>/reject"): (
        "/api/v1/bulletins/999/reject", {"reason": "sai"}, "bulletin.reject", APPROVERS,
    ),
    ("POST", "/api/v1/bulletins/<int:bulletin_id>/cancel"): (
        "/api/v1/bulletins/999/cancel", None, "bulletin.cancel", WRITERS,
    ),
    ("POST", "/api/v1/emergencies"): (
        "/api/v1/emergencies", {**BULLETIN, "title": "Lũ quét"}, "emergency.broadcast", APPROVERS,
    ),
    ("GET", "/api/v1/areas"): ("/api/v1/areas", None, "area.manage", ADMINS),
    ("POST", "/api/v1/areas"): (
        "/api/v1/areas", {"code": "99", "name": "Tỉnh Thử", "level": "province"}, "area.manage", ADMINS,
    ),
    ("PATCH", "/api/v1/areas/<code>"): ("/api/v1/areas/ban-lim", {"name": "Bản Lìm"}, "area.manage", ADMINS),
    ("POST", "/api/v1/areas/<code>/retire"): ("/api/v1/areas/nowhere/retire", None, "area.manage", ADMINS),
    ("GET", "/api/v1/devices"): ("/api/v1/devices", None, "device.read", EVERYONE),
    ("GET", "/api/v1/devices/<device_id>"): ("/api/v1/devices/tule-c01", None, "device.read", EVERYONE),
    ("POST", "/api/v1/devices"): (
        "/api/v1/devices", {"id": "tule-c99", "name": "Cụm mới", "village": "ban-lim"}, "device.manage",
        ADMINS,
    ),
    ("POST", "/api/v1/devices/<device_id>/cmd"): (
        "/api/v1/devices/tule-c01/cmd", {"command": "stop"}, "device.manage", ADMINS,
    ),
    ("GET", "/api/v1/updates"): ("/api/v1/updates", None, "device.read", EVERYONE),
    ("POST", "/api/v1/updates"): ("/api/v1/updates", {"version": "9.9.9"}, "device.manage", ADMINS),
    ("POST", "/api/v1/updates/<int:rollout_id>/cancel"): (
        "/api/v1/updates/999/cancel", None, "device.manage", ADMINS,
    ),
    ("PATCH", "/api/v1/devices/<device_id>"): (
        "/api/v1/devices/tule-c01", {"name": "Cụm loa đổi tên"}, "device.manage", ADMINS,
    ),
    ("POST", "/api/v1/devices/<device_id>/revoke"): (
        "/api/v1/devices/tule-c02/revoke", None, "device.manage", ADMINS,
    ),
    ("POST", "/api/v1/tts/preview"): (
        "/api/v1/tts/preview", {"text": "xin chào"}, "bulletin.create", WRITERS,
    ),
    ("GET", "/api/v1/plays"): ("/api/v1/plays", None, "plays.read", EVERYONE),
    ("PATCH", "/api/v1/bulletins/<int:bulletin_id>"): (
        "/api/v1/bulletins/999", {"title": "Sửa"}, "bulletin.submit", WRITERS,
    ),
    ("GET", "/api/v1/users"): ("/api/v1/users", None, "user.manage", ADMINS),
    ("POST", "/api/v1/users"): (
        "/api/v1/users", {"username": "moi", "password": "mật-khẩu-dài", "role": "viewer"}, "user.manage",
        ADMINS,
    ),
    ("PATCH", "/api/v1/users/<int:user_id>"): (
        "/api/v1/users/999", {"role": "viewer"}, "user.manage", ADMINS,
    ),
    ("POST", "/api/v1/users/<int:user_id>/reset"): ("/api/v1/users/999/reset", None, "user.manage", ADMINS),
    # Any signed-in user changes their own password (a wrong old one is a 422).
    ("POST", "/api/v1/users/me/password"): (
        "/api/v1/users/me/password", {"old_password": "sai-mật-khẩu", "new_password": "mật-khẩu-mới-dài"},
        None, EVERYONE,
    ),
    ("GET", "/api/v1/inbox"): ("/api/v1/inbox", None, "bulletin.read", EVERYONE),
    ("POST", "/api/v1/inbox/<int:entry_id>/schedule"): (
        "/api/v1/inbox/999/schedule", None, "inbox.decide", WRITERS,
    ),
    ("POST", "/api/v1/inbox/<int:entry_id>/decline"): (
        "/api/v1/inbox/999/decline", {"reason": "trùng lịch họp"}, "inbox.decide", WRITERS,
    ),
    ("POST", "/api/v1/inbox/<int:entry_id>/order"): (
        "/api/v1/inbox/999/order", {"order": "commune_first"}, "inbox.decide", WRITERS,
    ),
    ("GET", "/api/v1/bulletins/<int:bulletin_id>/communes"): (
        "/api/v1/bulletins/999/communes", None, "bulletin.read", EVERYONE,
    ),
    ("GET", "/api/v1/stats"): (
        "/api/v1/stats?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z", None, "stats.read", EVERYONE,
    ),
    # The dictionary checks the admin role itself (web.api.lexicon._admin), not through `permit`.
    ("GET", "/api/v1/lexicon"): ("/api/v1/lexicon", None, None, ADMINS),
    ("PUT", "/api/v1/lexicon"): ("/api/v1/lexicon", {"entries": [], "version": None}, None, ADMINS),
    ("PUT", "/api/v1/lexicon/entries/<path:key>"): (
        "/api/v1/lexicon/entries/UBND", {"reading": "uỷ ban nhân dân"}, None, ADMINS,
    ),
    ("DELETE", "/api/v1/lexicon/entries/<path:key>"): ("/api/v1/lexicon/entries/XYZ", None, None, ADMINS),
    ("GET", "/api/v1/cap/sources"): ("/api/v1/cap/sources", None, "cap.manage", ADMINS),
    ("POST", "/api/v1/cap/sources"): (
        "/api/v1/cap/sources", {"name": "KTTV", "senders": ["a@b.vn"]}, "cap.manage", ADMINS,
    ),
    ("GET", "/api/v1/cap/sources/<int:source_id>"): ("/api/v1/cap/sources/999", None, "cap.manage", ADMINS),
    ("POST", "/api/v1/cap/sources/<int:source_id>/poll"): (
        "/api/v1/cap/sources/999/poll", None, "cap.manage", ADMINS,
    ),
    ("POST", "/api/v1/drills"): (
        "/api/v1/drills", {"targets": {"villages": ["ban-lim"]}}, "drill.run", APPROVERS,
    ),
    ("GET", "/api/v1/drills/<int:drill_id>"): ("/api/v1/drills/999", None, "plays.read", EVERYONE),
    ("GET", "/api/v1/stations"): ("/api/v1/stations", None, "station.read", EVERYONE),
    ("POST", "/api/v1/stations"): (
        "/api/v1/stations", {"name": "VOV1", "urls": ["http://vov.example/1"]}, "station.manage", APPROVERS,
    ),
    ("PATCH", "/api/v1/stations/<int:station_id>"): (
        "/api/v1/stations/999", {"name": "VOV1"}, "station.manage", APPROVERS,
    ),
    ("POST", "/api/v1/stations/<int:station_id>/retire"): (
        "/api/v1/stations/999/retire", None, "station.manage", APPROVERS,
    ),
    # Live sessions (issue 13): the test app has no streaming server, so allowed roles get a 503.
    ("POST", "/api/v1/live"): ("/api/v1/live", LIVE, "live", APPROVERS),
    ("GET", "/api/v1/live"): ("/api/v1/live", None, "plays.read", EVERYONE),
    ("GET", "/api/v1/live/<session_id>"): ("/api/v1/live/abc", None, "plays.read", EVERYONE),
    ("POST", "/api/v1/live/<session_id>/confirm"): ("/api/v1/live/abc/confirm", None, "live", APPROVERS),
    ("POST", "/api/v1/live/<session_id>/end"): ("/api/v1/live/abc/end", None, "live", APPROVERS),
    ("POST", "/api/v1/live/<session_id>/chunks"): ("/api/v1/live/abc/chunks", None, "live", APPROVERS),
}  # fmt: skip


def test_every_api_route_is_classified(context: WebContext) -> None:
    app = create_app(context)
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    unclassified = routes - PUBLIC - set(PROTECTED)
    assert not unclassified, (
        f"new API routes: add them to PUBLIC or PROTECTED with their role: {unclassified}"
    )
    assert not (PUBLIC | set(PROTECTED)) - routes, "the tables name routes the app no longer has"


@pytest.mark.parametrize("route", sorted(PROTECTED), ids=lambda r: f"{r[0]} {r[1]}")
def test_role_matrix(client: FlaskClient, runtime: Runtime, route: tuple[str, str]) -> None:
    method, _rule = route
    path, body, action, allowed = PROTECTED[route]
    for headers in ({}, {"Authorization": "Bearer forged-token"}):
        answer = client.open(path, method=method, json=body, headers=headers)
        assert answer.status_code == 401, f"{method} {path} without a valid token"
    for role in ROLES:
        with client:
            answer = client.open(path, method=method, json=body, headers=runtime.auth(role))
            if action is not None:
                assert g.get("loaxa_permission") == action, f"{method} {path} must check {action!r}"
        if role in allowed:
            assert answer.status_code not in (401, 403), f"{role} may {action}: {answer.json}"
        else:
            assert answer.status_code == 403, f"{role} may not {action} but got {answer.status_code}"
            assert answer.json["error"]["code"] == "forbidden"
