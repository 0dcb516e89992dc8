"""Reading a CAP 1.2 document safely: no DTD, no entities, no network, bounded size, the OASIS schema.

Owns turning untrusted bytes into a controller.cap.model.Alert or a CapRejected with a reason code. The
parser is lxml with entity resolution, network access and huge trees switched off, and any document that
declares a DTD is refused outright (billion laughs and external entities both need one). Must not fetch,
store or decide what an alert becomes.
"""

import base64
import binascii
import functools
import re
from datetime import datetime
from pathlib import Path
from typing import Final

from lxml import etree

from controller.cap.model import Alert, Area, CapRejected, Info, Resource

CAP_NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_PATH: Final = Path(__file__).parent / "schema" / "CAP-v1.2.xsd"
MAX_DOCUMENT_BYTES: Final = 8 * 1024 * 1024  # an alert with a short inline audio clip fits
_NS: Final = {"cap": CAP_NS}
_ROOT_START: Final = re.compile(rb"<[A-Za-z_]")
_DTD_MESSAGE: Final = (
    "Văn bản khai báo DTD (thực thể XML, có thể là bom XML hay đọc tệp lạ); CAP không cần DTD nên loaxa "
    "từ chối, không phát."
)


def safe_parser() -> etree.XMLParser:
    """An lxml parser that resolves no entity, loads no DTD, opens no network and keeps libxml2's limits."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
    )


def parse_xml(data: bytes) -> etree._Element:
    """The root element of `data`, or CapRejected (malformed_xml, forbidden_dtd, too_large)."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CapRejected(
            "too_large",
            f"Văn bản dài {len(data)} byte, quá giới hạn {MAX_DOCUMENT_BYTES} byte; "
            "nguồn cần gửi bản tin ngắn hơn.",
        )
    # Refuse a DTD before parsing: libxml2 would stop a billion laughs too, but as a syntax error.
    root_start = _ROOT_START.search(data)
    if b"<!DOCTYPE" in data[: root_start.start() if root_start else len(data)].upper():
        raise CapRejected("forbidden_dtd", _DTD_MESSAGE)
    try:
        root = etree.fromstring(data, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise CapRejected(
            "malformed_xml", f"XML hỏng, không đọc được ({exc}); nguồn cần gửi lại văn bản CAP đúng cú pháp."
        ) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CapRejected("forbidden_dtd", _DTD_MESSAGE)
    return root


@functools.cache
def cap_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 schema (controller/cap/schema/CAP-v1.2.xsd), read once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser=safe_parser()))


def check_schema(root: etree._Element) -> None:
    """Raise CapRejected(schema_invalid) unless `root` is a valid CAP 1.2 alert."""
    if root.tag != f"{{{CAP_NS}}}alert":
        raise CapRejected(
            "not_cap", f"Phần tử gốc là {root.tag!r}, không phải <alert> của CAP 1.2; kiểm tra địa chỉ nguồn."
        )
    schema = cap_schema()
    if not schema.validate(root):
        first = schema.error_log.filter_from_errors()[0]
        raise CapRejected(
            "schema_invalid",
            f"Không đúng lược đồ CAP 1.2 (dòng {first.line}): {first.message}; nguồn cần sửa văn bản.",
        )


def parse_alert(data: bytes) -> Alert:
    """Parse and validate one CAP 1.2 document."""
    root = parse_xml(data)
    check_schema(root)
    return read_alert(root)


def read_alert(root: etree._Element) -> Alert:
    """The Alert of a schema-valid <alert> element."""
    return Alert(
        identifier=_text(root, "identifier"),
        sender=_text(root, "sender"),
        sent=_moment(_text(root, "sent")),
        status=_text(root, "status"),
        msg_type=_text(root, "msgType"),
        scope=_text(root, "scope"),
        references=_references(_text(root, "references")),
        infos=tuple(_info(node) for node in root.findall("cap:info", _NS)),
    )


def _info(node: etree._Element) -> Info:
    expires = _text(node, "expires")
    return Info(
        language=_text(node, "language") or "en-US",
        event=_text(node, "event"),
        urgency=_text(node, "urgency"),
        severity=_text(node, "severity"),
        certainty=_text(node, "certainty"),
        headline=_text(node, "headline"),
        description=_text(node, "description"),
        instruction=_text(node, "instruction"),
        expires=_moment(expires) if expires else None,
        resources=tuple(_resource(r) for r in node.findall("cap:resource", _NS)),
        areas=tuple(_area(a) for a in node.findall("cap:area", _NS)),
    )


def _resource(node: etree._Element) -> Resource:
    size, deref = _text(node, "size"), _text(node, "derefUri")
    try:
        content = base64.b64decode(deref, validate=True) if deref else None
    except (binascii.Error, ValueError) as exc:
        raise CapRejected(
            "bad_resource", f"Tệp đính kèm (derefUri) không phải base64 ({exc}); nguồn cần sửa tệp đính kèm."
        ) from exc
    return Resource(
        description=_text(node, "resourceDesc"),
        mime_type=_text(node, "mimeType"),
        size=int(size) if size else None,
        uri=_text(node, "uri") or None,
        deref=content,
        digest=_text(node, "digest").lower() or None,
    )


def _area(node: etree._Element) -> Area:
    geocodes = tuple((_text(g, "valueName"), _text(g, "value")) for g in node.findall("cap:geocode", _NS))
    return Area(
        description=_text(node, "areaDesc"),
        geocodes=geocodes,
        polygons=tuple(_polygon(p.text or "") for p in node.findall("cap:polygon", _NS)),
    )


def _polygon(text: str) -> tuple[tuple[float, float], ...]:
    points: list[tuple[float, float]] = []
    for pair in text.split():
        lat, _, lon = pair.partition(",")
        try:
            points.append((float(lat), float(lon)))
        except ValueError as exc:
            raise CapRejected(
                "schema_invalid",
                f"Điểm đa giác {pair[:40]!r} không có dạng 'vĩ độ,kinh độ'; nguồn cần sửa vùng.",
            ) from exc
    if len(points) < 4 or points[0] != points[-1]:
        raise CapRejected(
            "schema_invalid", "Đa giác cần ít nhất 4 điểm và điểm cuối trùng điểm đầu; nguồn cần sửa vùng."
        )
    return tuple(points)


def _references(text: str) -> tuple[tuple[str, str, datetime], ...]:
    found = []
    for entry in text.split():
        parts = entry.split(",")
        if len(parts) != 3:
            raise CapRejected(
                "schema_invalid",
                f"Tham chiếu {entry[:80]!r} không có dạng 'sender,identifier,sent'; "
                "nguồn cần sửa references.",
            )
        found.append((parts[0], parts[1], _moment(parts[2])))
    return tuple(found)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CapRejected("schema_invalid", f"{text[:40]!r} không phải ngày giờ CAP; nguồn cần sửa.") from exc
    if moment.utcoffset() is None:
        raise CapRejected(
            "schema_invalid", f"{text[:40]!r} thiếu múi giờ; nguồn cần ghi kèm múi giờ, ví dụ +07:00."
        )
    return moment


def _text(node: etree._Element, name: str) -> str:
    child = node.find(f"cap:{name}", _NS)
    return "" if child is None or child.text is None else child.text.strip()
