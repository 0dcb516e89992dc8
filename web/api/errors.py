"""The one place where failures become JSON error responses `{"error": {"code", "message"}}`.

Owns the mapping of service exceptions, HTTP exceptions and validation errors to status codes and
codes. Handlers raise; they never build error bodies themselves. Must not know any domain rule.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from apiflask import APIFlask, HTTPError
from flask import Response, jsonify
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, InternalServerError

from controller.services.errors import ServiceError
from controller.tts import errors as tts_errors
from protocol.errors import ProtocolError

# Text to speech failures reach the web layer through the runtime's preview and render hooks.
_TTS_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (tts_errors.TextRejected, 422, "text_rejected"),
    (tts_errors.RecordingRejected, 422, "recording_rejected"),
    (tts_errors.NoEngineAvailable, 503, "tts_unavailable"),
    (tts_errors.EngineUnavailable, 503, "tts_unavailable"),
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    429: "too_many_requests",
    422: "validation_failed",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


class ApiError(Exception):
    """An error a handler raises with its status, a stable code and a message a person can act on."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _HTTP_CODES.get(status, "error")
        self.message = message
        self.headers = dict(headers or {})
        self.fields = dict(fields or {})


def abort(status: int, message: str, code: str | None = None) -> NoReturn:
    """Stop the request with a JSON error."""
    raise ApiError(status, message, code)


def validation_error(errors: Sequence[ErrorDetails], where: str = "body") -> ApiError:
    """Turn pydantic errors into one 422 naming every bad or unknown field."""
    fields: dict[str, list[str]] = {}
    unknown: list[str] = []
    for error in errors:
        name = ".".join(str(part) for part in error["loc"]) or where
        if error["type"] == "extra_forbidden":
            unknown.append(name)
            fields.setdefault(name, []).append("unknown field")
        else:
            fields.setdefault(name, []).append(error["msg"])
    parts = [f"unknown field(s) {', '.join(unknown)}: remove them"] if unknown else []
    parts += [f"{name}: {'; '.join(msgs)}" for name, msgs in fields.items() if name not in unknown]
    return ApiError(422, f"invalid {where}: " + "; ".join(parts), fields=fields)


def _body(error: ApiError) -> Response:
    payload: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields:
        payload["fields"] = error.fields
    response = jsonify({"error": payload})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _from_service(exc: ServiceError) -> ApiError:
    return ApiError(exc.http_status, exc.message, exc.code, fields=exc.fields or None)


def _from_tts(exc: tts_errors.TtsError) -> ApiError:
    for cls, status, code in _TTS_STATUS:
        if isinstance(exc, cls):
            return ApiError(status, str(exc), code)
    return ApiError(500, f"audio processing failed: {exc}", "audio_processing_failed")


def _from_apiflask(error: HTTPError) -> ApiError:
    # APIFlask wraps pydantic failures of @input; the cause keeps the error types (to spot unknown fields).
    cause = error.__cause__
    if isinstance(cause, PydanticValidationError):
        where = next(iter(error.detail), "body") if isinstance(error.detail, dict) else "body"
        return validation_error(cause.errors(), "body" if where == "json" else where)
    message = error.message or _HTTP_CODES.get(error.status_code, "error")
    headers = Headers(error.headers or {})
    return ApiError(error.status_code, message, headers={key: value for key, value in headers.items()})


def _from_protocol(exc: ProtocolError) -> ApiError:
    # Requests are checked against the same rules first, so this is a gap between the two checks.
    return ApiError(422, f"the protocol layer refused it ({exc.reason}): {exc}", "protocol_rejected")


def _from_http(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    if isinstance(exc, InternalServerError):
        return ApiError(500, "internal error; the controller log has the details")
    message = exc.description or exc.name
    headers = {key: value for key, value in exc.get_headers() if key.lower() not in ("content-type",)}
    return ApiError(status, message, headers=headers)


def register(app: APIFlask) -> None:
    """Install the error handlers on the app."""
    app.register_error_handler(ApiError, _body)
    app.register_error_handler(ServiceError, lambda exc: _body(_from_service(exc)))
    app.register_error_handler(tts_errors.TtsError, lambda exc: _body(_from_tts(exc)))
    app.register_error_handler(ProtocolError, lambda exc: _body(_from_protocol(exc)))
    app.register_error_handler(HTTPException, lambda exc: _body(_from_http(exc)))
    app.error_processor(lambda exc: _body(_from_apiflask(exc)))
