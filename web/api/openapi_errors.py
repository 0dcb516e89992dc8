"""The error answers every API operation may give, written into the served OpenAPI document.

Owns listing, per operation, the status codes that the app-wide parts return before or around the
handler: the request guards (400 malformed body, 413 too large, 415 wrong media type, 422 text or
numbers refused), bearer authentication and role checks (401, 403) and unknown records named in the
path (404). Clients are generated from the document and schemathesis checks every answer against it
(issue 20: 14 of 22 operations answered codes the document did not list). Must not change handlers.
"""

from typing import Any, Final

_ERROR = {"$ref": "#/components/schemas/HTTPError"}
_REASONS: Final = {
    400: "The body is not UTF-8 or not valid JSON.",
    401: "No valid bearer token.",
    403: "The signed-in role may not do this, or the record belongs to another commune.",
    404: "A record named in the request does not exist.",
    413: "The body is larger than the limit (JSON 1 MB, uploads 25 MB).",
    415: "The body's Content-Type is not one this operation takes.",
    422: "A parameter or field was refused: see error.code and error.fields.",
}
# Records named in the body rather than the path (POST /devices names its village).
_BODY_RECORDS: Final = {("/api/v1/devices", "post")}


def _codes(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    codes = {422}  # query text and numbers are checked on every operation
    if operation.get("requestBody"):
        codes |= {400, 413, 415}
    if operation.get("security"):
        codes |= {401, 403}
    if "{" in path or (path, method) in _BODY_RECORDS:
        codes.add(404)
    return codes


def document_errors(spec: dict[Any, Any] | str) -> dict[Any, Any] | str:
    """Add the app-wide error answers to each operation that does not list them yet."""
    if isinstance(spec, str):
        return spec
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in sorted(_codes(path, method, operation)):
                responses.setdefault(
                    str(code),
                    {"description": _REASONS[code], "content": {"application/json": {"schema": _ERROR}}},
                )
    return spec
