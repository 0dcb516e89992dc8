"""The "Phát trực tiếp" page (issue 13, item 3): go live from a phone's microphone, and the live archive.

Owns the two pages only. The villages to pick are those under the user's area (web.ui.targets), grouped by
commune: a commune's staff see their commune's, a district's see each commune of the district. The page's
script (web/static/live.js) captures the microphone and talks to
`/api/v1/live` with a bearer token issued to the signed-in user for the page (the UI serves no JSON);
the rules are controller.usecases.live's.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from flask import Blueprint, render_template
from sqlalchemy.orm import Session

from controller import services
from controller.services.views import UserView, VillageView
from web.context import web_context
from web.ui import common, targets
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_live", __name__))
PAGE_TOKEN_TTL: Final = timedelta(hours=4)  # a page left open that long asks the user to reload it
REASONS: Final = {
    "ended": "Đã kết thúc",
    "source_gone": "Mất nguồn âm thanh",
    "silent": "Im lặng quá 10 giây",
    "no_chunks": "Điện thoại mất kết nối",
    "controller_stopped": "Máy chủ dừng",
    "error": "Lỗi máy chủ",
}


@dataclass(frozen=True)
class CommuneVillages:
    """One commune's villages on the live page."""

    name: str
    villages: list[VillageView]


def villages_by_commune(db: Session, me: UserView) -> list[CommuneVillages]:
    """The villages under the user's area, grouped by commune; communes and villages by name."""
    villages = targets.villages_under(db, me)
    names = services.commune_names(db, [v.commune_id for v in villages])
    grouped: dict[str, list[VillageView]] = {}
    for village in villages:
        grouped.setdefault(village.commune_id, []).append(village)
    communes = [CommuneVillages(names.get(cid, cid), found) for cid, found in grouped.items()]
    return sorted(communes, key=lambda c: c.name)


@bp.get("/live")
@page("live")
def live_page() -> str:
    """The big button, the level meter and the on-air indicator."""
    me = user()
    context = web_context()
    with context.db.session() as db:
        communes = villages_by_commune(db, me)
        token = services.issue_token(db, me, context.clock(), PAGE_TOKEN_TTL)
    return render_template(
        "ui/live.html", communes=communes, api_token=token, available=context.live is not None
    )


@bp.get("/live/archive")
@page("plays.read")
def archive() -> str:
    """Past live sessions with their recordings to replay."""
    live = web_context().live
    sessions = [] if live is None else live.list(user())
    return render_template(
        "ui/live_archive.html", sessions=sessions, reasons=REASONS, audio_url=common.audio_url
    )
