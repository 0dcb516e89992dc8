"""Speech made by a fallback voice is made again once a better one answers (DESIGN §6, issue 19).

Owns finding the Vietnamese text-to-speech versions of live bulletins (pending or approved, whether or not
recordings in village languages stand beside them) whose audio came from an engine the chain ranks below
another, re-rendering their text with `tts.rerender` and attaching the new audio in its place. It must
not plan or publish (the runtime re-plans when something changed), and never replaces a recorded
version: a person's voice is not swapped for a synthesizer's.
"""

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller import services
from controller.assets import AssetStore
from controller.config import TtsSettings
from controller.db.models import Asset, Bulletin, BulletinAudio
from controller.services.bulletin_audio import VIETNAMESE
from controller.services.errors import ServiceError
from controller.tts import Lexicon, Synthesizer, build_engines, rerender

log = logging.getLogger(__name__)

LIVE = ("pending", "approved")


@dataclass(frozen=True)
class Upgrade:
    """One bulletin whose Vietnamese speech was made again, by which engine instead of which."""

    bulletin_id: int
    old_engine: str
    new_engine: str
    sha256: str


def fallback_speech(session: Session, chain: Sequence[str]) -> list[tuple[int, str, str]]:
    """(bulletin id, text, engine) of live bulletins whose Vietnamese speech a better engine could read."""
    worse = [name for index, name in enumerate(chain) if index > 0]
    if not worse:
        return []
    rows = session.execute(
        select(Bulletin.id, Bulletin.text, Asset.engine)
        .join(BulletinAudio, BulletinAudio.bulletin_id == Bulletin.id)
        .join(Asset, Asset.sha256 == BulletinAudio.asset_sha256)
        .where(
            Bulletin.status.in_(LIVE),
            BulletinAudio.language == VIETNAMESE,
            BulletinAudio.kind == "tts",
            Asset.engine.in_(worse),
        )
        .order_by(Bulletin.id)
    )
    return [(bulletin_id, text, engine) for bulletin_id, text, engine in rows if engine and text.strip()]


def upgrade_speech(
    sessions: Callable[[], AbstractContextManager[Session]],
    store: AssetStore,
    settings: TtsSettings,
    clock: Callable[[], datetime],
    *,
    lexicon: Lexicon | None = None,
    engines: Sequence[Synthesizer] | None = None,
) -> list[Upgrade]:
    """Re-render every fallback speech a better engine can read now, and attach it; return what changed.

    An engine that cannot read one bulletin is not asked again for the others in this pass (offline,
    each attempt would cost its timeout again).
    """
    chain = tuple(engines) if engines is not None else build_engines(settings)
    with sessions() as session:
        candidates = fallback_speech(session, [engine.name for engine in chain])
    upgrades: list[Upgrade] = []
    unanswered: set[str] = set()
    for bulletin_id, text, engine in candidates:
        if engine in unanswered:
            continue
        result = rerender(text, engine, settings, store, engines=chain, lexicon=lexicon)
        if result is None or result.engine == engine:
            unanswered.add(engine)
            continue
        try:
            with sessions() as session:
                now = clock()
                services.register_asset(
                    session, now, sha256=result.sha256, size=result.bytes, duration_ms=result.duration_ms,
                    engine=result.engine, voice=result.voice, language=VIETNAMESE,
                    normalized_text=result.normalized_text or None,
                )  # fmt: skip
                services.attach_audio(
                    session, bulletin_id, now, language=VIETNAMESE, kind="tts", asset_sha256=result.sha256
                )
        except ServiceError as error:  # approved, then done or cancelled while it was rendering
            log.info("bulletin %s: better speech not attached: %s", bulletin_id, error)
            continue
        log.info(
            "bulletin %s: speech by %s replaces %s (%s)", bulletin_id, result.engine, engine, result.sha256
        )
        upgrades.append(Upgrade(bulletin_id, engine, result.engine, result.sha256))
    return upgrades
