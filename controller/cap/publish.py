"""loaxa's approved bulletins as CAP 1.2 alerts and as an Atom feed of them (DESIGN §12, docs/cap.md).

Owns the XML loaxa sends out: one <alert> per public bulletin (status Actual, scope Public, its villages as
VN-ADMIN geocodes, each audio version as a <resource> with mimeType, size, uri and SHA-1 digest), and the
Atom feed that carries them inline (OASIS "CAP feeds" practice). Pure functions: the caller passes the
bulletins, the URLs and the digests. Must not read the database or the clock.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from lxml import etree

from controller.cap.fetch import ATOM_NS
from controller.cap.languages import cap_language
from controller.cap.parse import CAP_NS
from controller.services.public_feeds import PublicBulletin

LOCAL: Final = ZoneInfo("Asia/Ho_Chi_Minh")
# priority → (urgency, severity, certainty) loaxa states for its own bulletins.
_GRADES: Final = {
    "emergency": ("Immediate", "Severe", "Observed"),
    "priority": ("Expected", "Moderate", "Likely"),
    "normal": ("Unknown", "Minor", "Unknown"),
}
_LANGUAGE_NAMES: Final = {"vi": "tiếng Việt", "thai": "tiếng Thái", "mong": "tiếng Mông", "dao": "tiếng Dao"}

#: `audio_url(sha256)` → the public URL of an audio file; `sha1(sha256)` → its SHA-1 hex digest.
AudioUrl = Callable[[str], str]
Sha1 = Callable[[str], str]


def cap_time(moment: datetime) -> str:
    """A CAP date and time: local time with its offset, to the second (CAP forbids 'Z')."""
    return moment.astimezone(LOCAL).isoformat(timespec="seconds")


def identifier(sender: str, bulletin_id: int) -> str:
    """The CAP identifier of a bulletin (unique per sender; no spaces, commas, < or &)."""
    return f"{sender.replace('@', '.')}.bulletin.{bulletin_id}"


def alert_element(
    bulletin: PublicBulletin, *, sender: str, audio_url: AudioUrl, sha1: Sha1
) -> etree._Element:
    """The CAP 1.2 <alert> of one public bulletin."""
    cap = f"{{{CAP_NS}}}"
    alert = etree.Element(f"{cap}alert", nsmap={None: CAP_NS})
    for name, value in (
        ("identifier", identifier(sender, bulletin.id)),
        ("sender", sender),
        ("sent", cap_time(bulletin.approved_at)),
        ("status", "Actual"),
        ("msgType", "Alert"),
        ("scope", "Public"),
    ):
        etree.SubElement(alert, f"{cap}{name}").text = value
    info = etree.SubElement(alert, f"{cap}info")
    urgency, severity, certainty = _GRADES[bulletin.priority]
    for name, value in (
        ("language", cap_language("vi")),
        ("category", "Other"),
        ("event", bulletin.title),
        ("urgency", urgency),
        ("severity", severity),
        ("certainty", certainty),
    ):
        etree.SubElement(info, f"{cap}{name}").text = value
    if bulletin.expires_at is not None:
        etree.SubElement(info, f"{cap}expires").text = cap_time(bulletin.expires_at)
    etree.SubElement(info, f"{cap}senderName").text = "loaxa"
    etree.SubElement(info, f"{cap}headline").text = bulletin.title
    etree.SubElement(info, f"{cap}description").text = bulletin.text
    for audio in bulletin.audio:
        resource = etree.SubElement(info, f"{cap}resource")
        language = _LANGUAGE_NAMES.get(audio.language, audio.language)
        etree.SubElement(resource, f"{cap}resourceDesc").text = f"Âm thanh bản tin ({language})"
        etree.SubElement(resource, f"{cap}mimeType").text = audio.mime
        etree.SubElement(resource, f"{cap}size").text = str(audio.bytes)
        etree.SubElement(resource, f"{cap}uri").text = audio_url(audio.sha256)
        etree.SubElement(resource, f"{cap}digest").text = sha1(audio.sha256)
    area = etree.SubElement(info, f"{cap}area")
    etree.SubElement(area, f"{cap}areaDesc").text = ", ".join(v.name for v in bulletin.villages) or "—"
    for village in bulletin.villages:
        geocode = etree.SubElement(area, f"{cap}geocode")
        etree.SubElement(geocode, f"{cap}valueName").text = "VN-ADMIN"
        etree.SubElement(geocode, f"{cap}value").text = village.area_code
    return alert


def alert_document(bulletin: PublicBulletin, *, sender: str, audio_url: AudioUrl, sha1: Sha1) -> bytes:
    """One bulletin as a standalone CAP 1.2 document."""
    element = alert_element(bulletin, sender=sender, audio_url=audio_url, sha1=sha1)
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))


def atom_feed(
    bulletins: Sequence[PublicBulletin],
    *,
    sender: str,
    feed_url: str,
    alert_url: Callable[[int], str],
    audio_url: AudioUrl,
    sha1: Sha1,
    now: datetime,
) -> bytes:
    """An Atom feed whose entries each carry one bulletin's CAP alert inline and link to it."""
    atom = f"{{{ATOM_NS}}}"
    feed = etree.Element(f"{atom}feed", nsmap={None: ATOM_NS})
    etree.SubElement(feed, f"{atom}id").text = feed_url
    etree.SubElement(feed, f"{atom}title").text = "loaxa — bản tin đã duyệt (CAP 1.2)"
    updated = max((b.approved_at for b in bulletins), default=now)
    etree.SubElement(feed, f"{atom}updated").text = updated.astimezone(LOCAL).isoformat(timespec="seconds")
    etree.SubElement(feed, f"{atom}link", rel="self", href=feed_url)
    author = etree.SubElement(feed, f"{atom}author")
    etree.SubElement(author, f"{atom}name").text = sender
    for bulletin in bulletins:
        entry = etree.SubElement(feed, f"{atom}entry")
        etree.SubElement(entry, f"{atom}id").text = f"urn:loaxa:{identifier(sender, bulletin.id)}"
        etree.SubElement(entry, f"{atom}title").text = bulletin.title
        etree.SubElement(entry, f"{atom}updated").text = cap_time(bulletin.approved_at)
        etree.SubElement(entry, f"{atom}link", rel="alternate", type="application/cap+xml",
                         href=alert_url(bulletin.id))  # fmt: skip
        content = etree.SubElement(entry, f"{atom}content", type="application/cap+xml")
        content.append(alert_element(bulletin, sender=sender, audio_url=audio_url, sha1=sha1))
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8"))
