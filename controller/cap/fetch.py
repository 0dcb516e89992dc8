"""Reading a source's URL: one CAP alert, or an Atom or RSS feed whose entries link to (or hold) alerts.

Owns the HTTP side of polling (http and https only, a timeout, a size ceiling, no HTML) and reading feeds
with the same safe parser as alerts. Returns documents or refusals per entry; must not validate CAP,
store or decide anything.
"""

import http.client
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urljoin, urlsplit

from lxml import etree

from controller.cap.model import CapRejected
from controller.cap.parse import CAP_NS, MAX_DOCUMENT_BYTES, parse_xml

ATOM_NS: Final = "http://www.w3.org/2005/Atom"
MAX_ENTRIES: Final = 100
_MAX_REDIRECTS: Final = 3
_USER_AGENT: Final = "loaxa-cap/1"
_ACCEPT: Final = "application/cap+xml, application/atom+xml, application/rss+xml, application/xml"

#: `get(url, timeout_s)` → body bytes; raises CapRejected (fetch_failed, fetch_timeout, not_cap, too_large).
Getter = Callable[[str, float], bytes]


@dataclass(frozen=True)
class Fetched:
    """One document a poll found (its URL and bytes), or why it could not be read."""

    where: str
    data: bytes | None = None
    problem: CapRejected | None = None


def http_get(url: str, timeout_s: float) -> bytes:
    """The body at `url` (http or https, up to 3 redirects), refusing HTML, large bodies and slow servers."""
    for _ in range(_MAX_REDIRECTS + 1):
        status, location, kind, body = _get_once(url, timeout_s)
        if status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        if status != 200:
            raise CapRejected(
                "fetch_failed",
                f"{url[:200]} trả lời HTTP {status}; kiểm tra địa chỉ nguồn hoặc báo bên cung cấp.",
            )
        if len(body) > MAX_DOCUMENT_BYTES:
            raise CapRejected(
                "too_large", f"{url[:200]} gửi quá {MAX_DOCUMENT_BYTES} byte; báo bên cung cấp."
            )
        if kind == "text/html" or body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
            raise CapRejected(
                "not_cap",
                f"{url[:200]} trả về trang HTML, không phải CAP hay nguồn tin CAP; kiểm tra lại địa chỉ.",
            )
        return body
    raise CapRejected(
        "fetch_failed", f"{url[:200]} chuyển hướng quá {_MAX_REDIRECTS} lần; dùng địa chỉ cuối cùng."
    )


def _get_once(url: str, timeout_s: float) -> tuple[int, str | None, str, bytes]:
    """(status, Location, content type, body up to the ceiling + 1) of one GET; the connection is closed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CapRejected("fetch_failed", f"{url[:200]}: chỉ đọc được địa chỉ http hoặc https.")
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.hostname, parts.port, timeout=timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", path, headers={"User-Agent": _USER_AGENT, "Accept": _ACCEPT})
        response = connection.getresponse()
        kind = response.headers.get_content_type()
        return response.status, response.headers.get("Location"), kind, response.read(MAX_DOCUMENT_BYTES + 1)
    except TimeoutError as exc:
        raise CapRejected(
            "fetch_timeout", f"{url[:200]} không trả lời trong {timeout_s:g} giây; lần đọc sau sẽ thử lại."
        ) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise CapRejected(
            "fetch_failed", f"Không đọc được {url[:200]} ({exc}); lần đọc sau sẽ thử lại."
        ) from exc
    finally:
        connection.close()


def poll(url: str, timeout_s: float, get: Getter = http_get) -> list[Fetched]:
    """Every alert document at `url`: the document itself, or each entry of its Atom/RSS feed."""
    try:
        body = get(url, timeout_s)
        root = parse_xml(body)
    except CapRejected as problem:
        return [Fetched(url, problem=problem)]
    if root.tag == f"{{{CAP_NS}}}alert":
        return [Fetched(url, data=body)]
    if root.tag == f"{{{ATOM_NS}}}feed":
        return [_entry(url, e, timeout_s, get) for e in root.findall(f"{{{ATOM_NS}}}entry")[:MAX_ENTRIES]]
    if root.tag == "rss":
        return [_item(url, i, timeout_s, get) for i in root.findall("channel/item")[:MAX_ENTRIES]]
    return [
        Fetched(
            url,
            problem=CapRejected(
                "not_cap", f"{url[:200]}: phần tử gốc {root.tag!r} không phải CAP, Atom hay RSS."
            ),
        )
    ]


def _entry(base: str, entry: etree._Element, timeout_s: float, get: Getter) -> Fetched:
    inline = entry.find(f".//{{{CAP_NS}}}alert")
    if inline is not None:
        return Fetched(base, data=etree.tostring(inline))
    links = entry.findall(f"{{{ATOM_NS}}}link")
    chosen = next((link for link in links if "cap" in (link.get("type") or "")), None)
    chosen = chosen if chosen is not None else next(iter(links), None)
    href = chosen.get("href") if chosen is not None else None
    if not href:
        return Fetched(
            base,
            problem=CapRejected(
                "not_cap", f"{base[:200]}: một mục của nguồn tin không dẫn tới cảnh báo nào."
            ),
        )
    return _linked(urljoin(base, href), timeout_s, get)


def _item(base: str, item: etree._Element, timeout_s: float, get: Getter) -> Fetched:
    href = (item.findtext("link") or "").strip()
    if not href:
        return Fetched(
            base, problem=CapRejected("not_cap", f"{base[:200]}: một mục RSS không dẫn tới cảnh báo nào.")
        )
    return _linked(urljoin(base, href), timeout_s, get)


def _linked(url: str, timeout_s: float, get: Getter) -> Fetched:
    try:
        return Fetched(url, data=get(url, timeout_s))
    except CapRejected as problem:
        return Fetched(url, problem=problem)
