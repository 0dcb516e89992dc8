"""Request guards that apply to every API call before its handler: media type, size and clean input.

Owns which media types an endpoint accepts, how large a body may be, and what text may contain: JSON
must be UTF-8, at most 32 levels deep, and no string, key, query or form value may hold NUL, other
control characters (tab and newlines aside) or lone surrogates. Handlers mark the few endpoints that
take multipart uploads with `accepts_uploads`; everything else takes JSON only. `register` also installs
the request audit trail of web.api.security.
"""

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from web.api import security
from web.api.errors import ApiError, abort

JSON_LIMIT_BYTES = 1024 * 1024
UPLOAD_LIMIT_BYTES = 25 * 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)

_UPLOADS_ATTR = "_loaxa_accepts_uploads"
_FORM_ATTR = "_loaxa_accepts_form"
FORM_LIMIT_BYTES = 16 * 1024
_INTEGER = re.compile(r"[+-]?[0-9]+")
_FORBIDDEN_CHARS = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}
F = TypeVar("F", bound=Callable[..., object])


def accepts_uploads(view: F) -> F:
    """Mark a view as taking `multipart/form-data` (audio uploads) as well as JSON."""
    setattr(view, _UPLOADS_ATTR, True)
    return view


def accepts_form(view: F) -> F:
    """Mark a view as taking a small `application/x-www-form-urlencoded` body (Icecast's callbacks)."""
    setattr(view, _FORM_ATTR, True)
    return view


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def text_problem(value: str) -> str | None:
    """Why a string may not be stored or spoken (NUL, control character, lone surrogate), or None."""
    for index, char in enumerate(value):
        if char in _FORBIDDEN_CHARS:
            return f"holds the control character U+{ord(char):04X} at position {index}; remove it"
        if "\ud800" <= char <= "\udfff":
            return (
                f"holds a lone surrogate U+{ord(char):04X} at position {index}: it is not valid Unicode text"
            )
    return None


def _check_strings(where: str, pairs: Iterable[tuple[str, str]]) -> None:
    for name, value in pairs:
        for text, what in ((name, "name"), (value, "value")):
            problem = text_problem(text) if isinstance(text, str) else None
            if problem:
                raise ApiError(
                    422,
                    f"{where} {what} {name[:40]!r} {problem}",
                    "invalid_text",
                    fields={name[:40]: [problem]},
                )


def _walk(data: Any, path: str) -> None:
    """Check nesting depth and every string of a decoded JSON document, without recursion."""
    stack: list[tuple[Any, str, int]] = [(data, path, 1)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            abort(
                422, f"JSON is nested deeper than {MAX_JSON_DEPTH} levels at {where}; flatten it", "too_deep"
            )
        if isinstance(value, str):
            _check_strings("JSON", [(where, value)])
        elif isinstance(value, int) and not _in_range(value):
            abort(422, f"{where} is out of range: use a whole number below 2^63", "out_of_range")
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_strings("JSON key at", [(where, key)])
                stack.append((item, f"{where}.{key}"[:80], depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]"[:80], depth + 1) for index, item in enumerate(value))


def _check_json() -> None:
    """Refuse JSON that is not UTF-8, malformed, too deep or carries text we will not keep."""
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        abort(400, f"the body is not UTF-8 (byte {exc.start}); send JSON encoded as UTF-8")
    except RecursionError:
        abort(422, f"JSON is nested deeper than {MAX_JSON_DEPTH} levels; flatten it", "too_deep")
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python converts (4300 digits)
        abort(400, f"the body is not valid JSON ({exc}); check the quoting and brackets")
    _walk(data, "body")


def _in_range(value: int) -> bool:
    return MIN_INT <= value <= MAX_INT


def _check_numbers() -> None:
    """Refuse path and query integers the database cannot hold (SQLite and PostgreSQL: 64-bit signed)."""
    too_big = [k for k, v in (request.view_args or {}).items() if isinstance(v, int) and not _in_range(v)]
    for name, value in request.args.items(multi=True):
        text = value.strip()
        if _INTEGER.fullmatch(text) and (len(text.lstrip("+-")) > 19 or not _in_range(int(text))):
            too_big.append(name)
    if too_big:
        abort(422, f"{', '.join(too_big)}: out of range; use whole numbers below 2^63", "out_of_range")


def _check_body() -> None:
    """Check query text and numbers, the body's media type (415), size (413) and text (400/422)."""
    _check_strings("query parameter", request.args.items(multi=True))
    _check_numbers()
    if request.method not in ("POST", "PUT", "PATCH") or not _has_body():
        return
    view = current_app.view_functions.get(request.endpoint or "")
    uploads = bool(getattr(view, _UPLOADS_ATTR, False))
    mimetype = request.mimetype
    if mimetype == "multipart/form-data" and uploads:
        request.max_content_length = UPLOAD_LIMIT_BYTES
        _check_strings("form field", request.form.items(multi=True))
        return
    if mimetype == "application/x-www-form-urlencoded" and getattr(view, _FORM_ATTR, False):
        request.max_content_length = FORM_LIMIT_BYTES
        _check_strings("form field", request.form.items(multi=True))
        return
    if mimetype != "application/json":
        accepted = "application/json or multipart/form-data" if uploads else "application/json"
        abort(415, f"unsupported Content-Type {mimetype or '(none)'!r}: send {accepted}")
    request.max_content_length = JSON_LIMIT_BYTES
    _check_json()


def register(app: Flask) -> None:
    """Install the guards, the app-wide upload ceiling and the request audit trail."""
    app.config["MAX_CONTENT_LENGTH"] = UPLOAD_LIMIT_BYTES
    app.before_request(_check_body)
    security.register(app)
