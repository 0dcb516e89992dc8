"""The one place where failures become JSON error responses `{"error": {"code", "message"}}`.

Owns the mapping of service exceptions, HTTP exceptions and validation errors to status codes and
codes. Handlers raise; they never build error bodies themselves. Must not know any domain rule.
`code` is a stable English word; `message` is rendered from its `controller.i18n.Message` in the
request's language (web.i18n: Vietnamese unless `Accept-Language` prefers English).
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final, NoReturn

from apiflask import APIFlask, HTTPError
from flask import Response, jsonify
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, InternalServerError

from controller.i18n import Joined, Message, Text
from controller.services.errors import ServiceError
from controller.tts import errors as tts_errors
from protocol.errors import ProtocolError
from web.i18n import localize

log = logging.getLogger(__name__)

# Text to speech failures reach the web layer through the runtime's preview and render hooks.
_TTS_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (tts_errors.TextRejected, 422, "text_rejected"),
    (tts_errors.RecordingRejected, 422, "recording_rejected"),
    (tts_errors.NoEngineAvailable, 503, "tts_unavailable"),
    (tts_errors.EngineUnavailable, 503, "tts_unavailable"),
)

# status → (code, what a person reads when nothing more precise was said)
HTTP_CODES: dict[int, tuple[str, Message]] = {
    400: ("bad_request", Message("The request could not be understood. Check what was sent and try again.")),
    401: ("unauthorized", Message("Sign in first, then try again.")),
    403: ("forbidden", Message("Your account may not do this. Ask an administrator if you need it.")),
    404: ("not_found", Message("Nothing was found at this address. Check the link or go back to the list.")),
    405: ("method_not_allowed", Message("This address does not take that kind of request.")),
    409: ("conflict", Message("This clashes with the current state. Reload and try again.")),
    413: ("payload_too_large", Message("What was sent is too large. Send a smaller file.")),
    415: (
        "unsupported_media_type",
        Message("This kind of content is not accepted here. Send JSON or a form."),
    ),
    416: ("range_not_satisfiable", Message("The requested part of the file does not exist.")),
    429: ("too_many_requests", Message("Too many attempts. Wait a minute, then try again.")),
    422: ("validation_failed", Message("Some values are not accepted. Correct them and send again.")),
    500: (
        "internal_error",
        Message(
            "Something went wrong on the controller. Try again; if it keeps happening, "
            "tell the administrator (the log has the details)."
        ),
    ),
    501: ("not_implemented", Message("This controller cannot do that yet.")),
    503: ("unavailable", Message("The service is not ready. Wait a moment and try again.")),
}
# Pydantic's error types → what to do, for the fields named in `fields` (the rest get the generic one).
_FIELD_PROBLEMS: dict[str, Message] = {
    "missing": Message("required: fill it in"),
    "extra_forbidden": Message("unknown field: remove it"),
    "string_too_short": Message("too short"),
    "string_too_long": Message("too long: at most {max_length} characters"),
    "too_short": Message("needs at least {min_length} item(s)"),
    "too_long": Message("too many items: at most {max_length}"),
    "string_type": Message("must be text"),
    "int_type": Message("must be a whole number"),
    "int_parsing": Message("must be a whole number"),
    "bool_type": Message("must be true or false"),
    "bool_parsing": Message("must be true or false"),
    "list_type": Message("must be a list"),
    "dict_type": Message("must be an object"),
    "literal_error": Message("must be one of: {expected}"),
    "enum": Message("must be one of: {expected}"),
    "greater_than_equal": Message("must be at least {ge}"),
    "less_than_equal": Message("must be at most {le}"),
    "greater_than": Message("must be more than {gt}"),
    "less_than": Message("must be less than {lt}"),
    "datetime_parsing": Message("must be a date and time like 2026-12-07T05:00:00+07:00"),
    "datetime_type": Message("must be a date and time like 2026-12-07T05:00:00+07:00"),
    "date_parsing": Message("must be a date like 2026-12-07"),
    "date_from_datetime_parsing": Message("must be a date like 2026-12-07"),
    "time_parsing": Message("must be a time like 05:30"),
    "string_pattern_mismatch": Message("has a form that is not accepted"),
    "json_invalid": Message("is not valid JSON"),
}
_FIELD_PROBLEM: Final = Message("value not accepted")
AUDIO_FAILED: Final = Message(
    "The audio could not be processed. Try again; if it keeps failing, tell the administrator."
)
PROTOCOL_REJECTED: Final = Message(
    "The request was refused by the message checks. Check the values and send again."
)


def http_code(status: int) -> str:
    """The stable code of an HTTP status."""
    return HTTP_CODES.get(status, ("error", None))[0]


def http_message(status: int) -> Message:
    """What a person reads for an HTTP status when nothing more precise was said."""
    return HTTP_CODES.get(status, HTTP_CODES[400 if status < 500 else 500])[1]


class ApiError(Exception):
    """An error a handler raises with its status, a stable code and a message a person can act on."""

    def __init__(
        self,
        status: int,
        message: Text,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, Sequence[Text]] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.status = status
        self.code = code or http_code(status)
        self.message = message
        self.headers = dict(headers or {})
        self.fields = dict(fields or {})


def abort(status: int, message: Text, code: str | None = None) -> NoReturn:
    """Stop the request with a JSON error."""
    raise ApiError(status, message, code)


def validation_error(errors: Sequence[ErrorDetails], where: str = "body") -> ApiError:
    """Turn pydantic errors into one 422 naming every bad or unknown field."""
    fields: dict[str, list[Text]] = {}
    for error in errors:
        name = ".".join(str(part) for part in error["loc"]) or where
        fields.setdefault(name, []).append(_field_problem(error))
    listed = Joined(
        [Message("{field}: {problems}", field=name, problems=Joined(msgs)) for name, msgs in fields.items()]
    )
    message = Message(
        "Some values in the {where} were not accepted: {problems}. Correct them and send again.",
        where=where,
        problems=listed,
    )
    return ApiError(422, message, fields=fields)


def _field_problem(error: ErrorDetails) -> Text:
    """What is wrong with one field: our validators' own Message, or pydantic's error type in words."""
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, ValueError) and cause.args and isinstance(cause.args[0], Message):
        return cause.args[0]
    problem = _FIELD_PROBLEMS.get(error["type"], _FIELD_PROBLEM)
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        problem.msgid.format(**context)  # pydantic's context lacks a value this msgid names
    except (KeyError, IndexError):
        problem, context = _FIELD_PROBLEM, {}
    filled = problem.with_values(**context)
    given = error.get("input")
    shown = error["type"] not in ("extra_forbidden", "missing")
    if (
        shown
        and isinstance(given, str | int | float)
        and not isinstance(given, bool)
        and len(repr(given)) <= 40
    ):
        return Message("{problem} (received {given})", problem=filled, given=repr(given))
    return filled


def _body(error: ApiError) -> Response:
    payload: dict[str, Any] = {"code": error.code, "message": localize(error.message)}
    if error.fields:
        payload["fields"] = {name: [localize(text) for text in texts] for name, texts in error.fields.items()}
    response = jsonify({"error": payload})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _from_service(exc: ServiceError) -> ApiError:
    return ApiError(exc.http_status, exc.text, exc.code, fields=exc.fields or None)


def _from_tts(exc: tts_errors.TtsError) -> ApiError:
    for cls, status, code in _TTS_STATUS:
        if isinstance(exc, cls):
            return ApiError(status, exc.text, code)
    log.error("audio processing failed: %s", exc)
    return ApiError(500, AUDIO_FAILED, "audio_processing_failed")


def _from_apiflask(error: HTTPError) -> ApiError:
    # APIFlask wraps pydantic failures of @input; the cause keeps the error types (to spot unknown fields).
    cause = error.__cause__
    if isinstance(cause, PydanticValidationError):
        where = next(iter(error.detail), "body") if isinstance(error.detail, dict) else "body"
        return validation_error(cause.errors(), "body" if where == "json" else where)
    # APIFlask's own texts are English reason phrases: the status's message says it for a person.
    message = http_message(error.status_code)
    headers = Headers(error.headers or {})
    return ApiError(error.status_code, message, headers={key: value for key, value in headers.items()})


def _from_protocol(exc: ProtocolError) -> ApiError:
    # Requests are checked against the same rules first, so this is a gap between the two checks.
    log.warning("protocol layer refused a request (%s): %s", exc.reason, exc)
    return ApiError(422, PROTOCOL_REJECTED, "protocol_rejected")


def _from_http(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    if isinstance(exc, InternalServerError):
        return ApiError(500, http_message(500))
    # werkzeug's descriptions are English; ours (raised with a Message or Vietnamese words) are kept.
    message: Text = http_message(status)
    if isinstance(exc.description, Message) or (exc.description and not exc.description.isascii()):
        message = exc.description
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
