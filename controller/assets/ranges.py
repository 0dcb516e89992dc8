"""HTTP Range answers for asset downloads (RFC 9110 §14), as pure data so the Flask route stays thin.

Owns parsing a `Range` header against a file size and choosing status and headers; it must not read
files. One range per request: agents resume one download; a multi-range request gets the whole file.
"""

import re
from dataclasses import dataclass

_ONE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class RangeAnswer:
    """What to send: `status` 200/206/416, and bytes [start, start + length) of the file."""

    status: int
    start: int
    length: int
    headers: dict[str, str]


def _whole(size: int) -> RangeAnswer:
    return RangeAnswer(200, 0, size, {"Accept-Ranges": "bytes", "Content-Length": str(size)})


def answer_range(header: str | None, size: int) -> RangeAnswer:
    """The answer to a `Range` header ("bytes=a-b", "bytes=a-", "bytes=-n") for a file of `size` bytes."""
    match = _ONE_RANGE.fullmatch((header or "").strip().replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return _whole(size)  # absent or not a single byte range: a server may ignore it (RFC 9110 §14.2)
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
        if int(last) == 0:
            return _unsatisfiable(size)
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return _whole(size)  # "bytes=5-2" is invalid syntax, so it is ignored
    if start >= size:
        return _unsatisfiable(size)
    length = end - start + 1
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(length),
        "Content-Range": f"bytes {start}-{end}/{size}",
    }
    return RangeAnswer(206, start, length, headers)


def _unsatisfiable(size: int) -> RangeAnswer:
    return RangeAnswer(416, 0, 0, {"Accept-Ranges": "bytes", "Content-Range": f"bytes */{size}"})
