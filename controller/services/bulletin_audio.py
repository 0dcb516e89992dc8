"""The language versions of a bulletin: Vietnamese speech first, then recordings in village languages.

Owns bulletin_audio rows; must not render or store audio (the TTS pipeline and asset store do).
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import AUDIO_KINDS, Asset, BulletinAudio
from controller.i18n import Message
from controller.i18n.vocabulary import describe_status
from controller.services._bulletin_views import load_bulletin, view_bulletin
from controller.services.audit import write_audit
from controller.services.errors import NotFound, ValidationFailed
from controller.services.users import require
from controller.services.views import BulletinView, UserView

VIETNAMESE = "vi"


def attach_audio(
    session: Session,
    bulletin_id: int,
    now: datetime,
    *,
    language: str,
    kind: str,
    asset_sha256: str,
    actor: UserView | None = None,
) -> BulletinView:
    """Add or replace the bulletin's version in `language`; Vietnamese plays first, the others after.

    `actor` is None when the system attaches rendered speech (e.g. after approval).
    """
    bulletin = load_bulletin(session, bulletin_id)
    if actor is not None:
        require(actor, "bulletin.submit", owner_id=bulletin.author_id)
    if bulletin.status not in ("draft", "pending", "approved"):
        raise ValidationFailed(
            Message(
                "Bulletin #{id} is {status}: its audio cannot be changed now. Write a new bulletin instead.",
                id=bulletin_id,
                status=describe_status(bulletin.status),
            )
        )
    if kind not in AUDIO_KINDS:
        raise ValidationFailed(
            Message(
                "The audio kind {kind} is not known. Choose one of: {allowed}.",
                kind=repr(kind)[:40],
                allowed=", ".join(AUDIO_KINDS),
            )
        )
    if not language or len(language) > 16:
        raise ValidationFailed(
            Message(
                "The language {language} is not valid. Use a short code such as vi, thai, hmn or dao.",
                language=repr(language)[:40],
            )
        )
    if session.get(Asset, asset_sha256) is None:
        raise NotFound(
            Message(
                "This audio file is not on the controller. Upload the recording or read the text aloud first."
            )
        )
    versions = list(session.scalars(select(BulletinAudio).where(BulletinAudio.bulletin_id == bulletin_id)))
    existing = next((v for v in versions if v.language == language), None)
    if existing is None:
        existing = BulletinAudio(
            bulletin_id=bulletin_id, language=language, kind=kind, position=len(versions)
        )
        session.add(existing)
        versions.append(existing)
    existing.kind, existing.asset_sha256 = kind, asset_sha256
    _order_versions(versions)
    bulletin.updated_at = now
    session.flush()
    write_audit(
        session,
        now,
        actor=actor.username if actor else None,
        action="bulletin.audio",
        entity="bulletin",
        entity_id=bulletin_id,
        detail={"language": language, "kind": kind, "sha256": asset_sha256},
    )
    return view_bulletin(session, bulletin)


def _order_versions(versions: Sequence[BulletinAudio]) -> None:
    """Vietnamese first, then the other languages in the order they were added."""
    ordered = sorted(versions, key=lambda v: (v.language != VIETNAMESE, v.position))
    for position, version in enumerate(ordered):
        version.position = position
