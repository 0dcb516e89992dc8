"""A village's public bulletins as a podcast: RSS 2.0 with the iTunes tags podcast apps read.

Owns the XML only (one <item> per bulletin with an <enclosure> of its audio: url, length, type; the
version in the chosen language when the bulletin has one, else the Vietnamese one). Pure: the caller
passes the bulletins and URLs.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from email.utils import format_datetime
from typing import Final

from lxml import etree

from controller.services.public_feeds import PublicAudio, PublicBulletin, PublicVillage

ITUNES_NS: Final = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS: Final = "http://www.w3.org/2005/Atom"
_I: Final = f"{{{ITUNES_NS}}}"


def pick_version(bulletin: PublicBulletin, language: str) -> PublicAudio | None:
    """The bulletin's audio in `language`, else in Vietnamese, else its first version."""
    by_language = {a.language: a for a in bulletin.audio}
    return by_language.get(language) or by_language.get("vi") or next(iter(bulletin.audio), None)


def rss(
    village: PublicVillage,
    bulletins: Sequence[PublicBulletin],
    *,
    language: str,
    feed_url: str,
    page_url: str,
    audio_url: Callable[[str], str],
    now: datetime,
) -> bytes:
    """The podcast feed of one village."""
    root = etree.Element("rss", version="2.0", nsmap={"itunes": ITUNES_NS, "atom": ATOM_NS})
    channel = etree.SubElement(root, "channel")
    title = f"Bản tin truyền thanh — {village.name}"
    for name, value in (
        ("title", title),
        ("link", page_url),
        ("description", f"Nghe lại các bản tin đã phát cho {village.name}, mới nhất trước."),
        ("language", "vi"),
        ("lastBuildDate", format_datetime(max((b.approved_at for b in bulletins), default=now))),
    ):
        etree.SubElement(channel, name).text = value
    etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=feed_url, rel="self", type="application/rss+xml")
    etree.SubElement(channel, f"{_I}author").text = "Đài truyền thanh xã"
    etree.SubElement(channel, f"{_I}summary").text = f"Bản tin truyền thanh cho {village.name}."
    etree.SubElement(channel, f"{_I}category", text="Government")
    etree.SubElement(channel, f"{_I}explicit").text = "false"
    etree.SubElement(channel, f"{_I}type").text = "episodic"
    for bulletin in bulletins:
        version = pick_version(bulletin, language)
        if version is None:
            continue
        item = etree.SubElement(channel, "item")
        etree.SubElement(item, "title").text = bulletin.title
        etree.SubElement(item, "description").text = bulletin.text
        etree.SubElement(
            item, "guid", isPermaLink="false"
        ).text = f"loaxa-bulletin-{bulletin.id}-{version.language}"
        etree.SubElement(item, "pubDate").text = format_datetime(bulletin.approved_at)
        etree.SubElement(
            item, "enclosure", url=audio_url(version.sha256), length=str(version.bytes), type=version.mime
        )
        etree.SubElement(item, f"{_I}duration").text = str(max(1, round(version.duration_ms / 1000)))
        etree.SubElement(item, f"{_I}explicit").text = "false"
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
