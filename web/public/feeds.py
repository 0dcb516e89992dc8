"""The public feeds: CAP 1.2 in Atom, one CAP alert, and a village's podcast; no login.

`/feeds/cap.atom` (optionally `?area=CODE`), `/feeds/cap/<id>.xml`, `/feeds/podcast.xml?village=ID`
(RSS 2.0 with iTunes tags).

Owns the HTTP side of the feeds; the CAP XML is controller.cap.publish, the podcast XML is written here
(web.public.podcast). What is public is controller.services.public_feeds' rule.
"""

from flask import Blueprint, Response, request, url_for

from controller.cap import publish
from controller.db.models import Area
from controller.services import public_feeds
from controller.services.area_tree import subtree
from web.api.errors import ApiError
from web.context import web_context
from web.public import podcast
from web.public.audio import audio_url, sha1_of

bp = Blueprint("public_feeds", __name__)
CAP_TYPE = "application/cap+xml"


def _sender() -> str:
    """The CAP sender loaxa writes: loaxa@ this server's host name."""
    return f"loaxa@{request.host.split(':')[0]}"


@bp.get("/feeds/cap.atom")
def cap_atom() -> Response:
    """Approved bulletins as CAP 1.2 alerts in an Atom feed, newest first (all, or under `?area=CODE`)."""
    context = web_context()
    code = request.args.get("area")
    with context.db.session() as session:
        codes = None
        if code is not None:
            if session.get(Area, code) is None:
                raise ApiError(404, f"Không có địa bàn mã {code[:40]!r}; bỏ ?area= hoặc dùng mã đúng.")
            codes = subtree(session, code)
        bulletins = public_feeds.public_bulletins(session, area_codes=codes, for_cap=True)
    body = publish.atom_feed(
        bulletins, sender=_sender(), feed_url=request.url, now=context.clock(),
        alert_url=lambda i: url_for("public_feeds.cap_alert", bulletin_id=i, _external=True),
        audio_url=audio_url, sha1=sha1_of,
    )  # fmt: skip
    return Response(body, mimetype="application/atom+xml", headers={"Cache-Control": "public, max-age=60"})


@bp.get("/feeds/cap/<int:bulletin_id>.xml")
def cap_alert(bulletin_id: int) -> Response:
    """One approved bulletin as a CAP 1.2 document."""
    with web_context().db.session() as session:
        found = [
            b for b in public_feeds.public_bulletins(session, for_cap=True, limit=100) if b.id == bulletin_id
        ]
    if not found:
        raise ApiError(404, f"Bản tin {bulletin_id} không có trong nguồn CAP công khai.")
    body = publish.alert_document(found[0], sender=_sender(), audio_url=audio_url, sha1=sha1_of)
    return Response(body, mimetype=CAP_TYPE, headers={"Cache-Control": "public, max-age=60"})


@bp.get("/feeds/podcast.xml")
def podcast_feed() -> Response:
    """A village's public bulletins as a podcast (one audio file per episode, in `?lang=` if it exists)."""
    context = web_context()
    village_id = request.args.get("village", "")
    with context.db.session() as session:
        villages = {v.id: v for v in public_feeds.public_villages(session)}
        if village_id not in villages:
            raise ApiError(
                404, f"Không có thôn/bản {village_id[:40]!r}; mở /nghe-lai để chọn thôn/bản và lấy đường dẫn."
            )
        languages = public_feeds.village_languages(session, village_id)
        bulletins = public_feeds.public_bulletins(session, village_id=village_id)
    language = request.args.get("lang") or "vi"
    body = podcast.rss(
        villages[village_id], bulletins, language=language if language in languages else "vi",
        feed_url=request.url, page_url=url_for("public_listen.page", village=village_id, _external=True),
        audio_url=audio_url, now=context.clock(),
    )  # fmt: skip
    return Response(body, mimetype="application/rss+xml", headers={"Cache-Control": "public, max-age=300"})
