"""Security headers on every response: a content security policy and the browser hardening around it.

Owns the header values and when each applies. The policy allows scripts, styles, fonts and media only
from this origin (no inline scripts: the UI keeps its JavaScript in static files), no framing, and no
Referer (signed asset URLs carry their signature in the query). API answers are never cached except
the content-addressed audio, which sets its own Cache-Control. Must not change response bodies.
"""

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# The interactive API docs (APIFlask's Swagger UI page) run an inline script and load their bundle from
# a CDN; they show only what the public OpenAPI says, so they get a policy of their own.
_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_FIXED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # Operators record bulletins in the browser: the microphone is allowed for this origin only.
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=(), payment=(), usb=()",
}


def add_security_headers(response: Response) -> Response:
    """Set the security headers a response does not set itself."""
    docs = request.path.rstrip("/").endswith("/api/v1/docs")
    response.headers.setdefault("Content-Security-Policy", _DOCS_POLICY if docs else CONTENT_SECURITY_POLICY)
    for name, value in _FIXED.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def register(app: Flask) -> None:
    """Install the headers on every response of the app."""
    app.after_request(add_security_headers)
