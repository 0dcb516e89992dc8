"""`/nghe-lai`: the public listen-again page, phone first, in Vietnamese, no login.

Owns the page: choose a village, then its public bulletins newest first, each with a player for the
version in the chosen language (the village's languages are offered; Vietnamese when a bulletin has no
version in it) and a link to the village's podcast feed. Must not show devices, staff or anything
unapproved (controller.services.public_feeds decides what is public).
"""

from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request

from controller.services import public_feeds
from web.context import web_context
from web.public.audio import audio_url
from web.public.podcast import pick_version

bp = Blueprint("public_listen", __name__, template_folder="../templates")
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "thai": "Tiếng Thái", "mong": "Tiếng Mông", "dao": "Tiếng Dao"}


@bp.get("/nghe-lai")
def page() -> str:
    """The village chooser, and the chosen village's bulletins."""
    village_id = request.args.get("village", "")
    with web_context().db.session() as session:
        villages = public_feeds.public_villages(session)
        chosen = next((v for v in villages if v.id == village_id), None)
        languages = public_feeds.village_languages(session, chosen.id) if chosen else ()
        bulletins = public_feeds.public_bulletins(session, village_id=chosen.id) if chosen else []
    language = request.args.get("lang", "")
    language = language if language in languages else (languages[0] if languages else "vi")
    items = []
    for bulletin in bulletins:
        version = pick_version(bulletin, language)
        items.append(
            {
                "bulletin": bulletin,
                "when": bulletin.approved_at.astimezone(LOCAL).strftime("%H:%M, %d/%m/%Y"),
                "audio_url": audio_url(version.sha256) if version else None,
                "audio_language": LANGUAGE_NAMES.get(version.language, version.language) if version else "",
                "minutes": round(version.duration_ms / 60000, 1) if version else 0,
            }
        )
    return render_template(
        "public/nghe_lai.html", villages=villages, chosen=chosen, items=items, language=language,
        languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in languages],
    )  # fmt: skip
