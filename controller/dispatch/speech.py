"""A bulletin's Vietnamese speech: rendered once when it has text and none yet, then attached.

Owns the step from an approved (or pending) bulletin's text to its `tts` audio version; the speech itself
is controller.tts. Recordings in other languages are attached by the bulletin use cases, not here.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from controller import services
from controller.assets.store import AssetStore
from controller.config import TtsSettings
from controller.db import Database
from controller.tts.errors import TtsError
from controller.tts.lexicon import Lexicon
from controller.tts.render import RenderResult, render_text

log = logging.getLogger(__name__)

VIETNAMESE: Final = "vi"


def register_render(session: Session, now: datetime, result: RenderResult, language: str) -> None:
    """Record a rendered or recorded asset in the database (the file is already in the store)."""
    services.register_asset(
        session, now, sha256=result.sha256, size=result.bytes, duration_ms=result.duration_ms,
        engine=result.engine, voice=result.voice, language=language,
        normalized_text=result.normalized_text or None,
    )  # fmt: skip


class BulletinSpeech:
    """Renders bulletins' text with the commune's dictionary into the asset store."""

    def __init__(
        self,
        db: Database,
        store: AssetStore,
        tts: TtsSettings,
        clock: Callable[[], datetime],
        lexicon: Callable[[], Lexicon | None],
    ) -> None:
        self._db = db
        self._store = store
        self._tts = tts
        self._clock = clock
        # The commune's dictionary is read at each render, so an admin's edit counts from the next one.
        self._lexicon = lexicon

    def render(self, bulletin_id: int) -> bool:
        """Give a bulletin its Vietnamese speech if it has text and none yet; True if audio was added."""
        with self._db.session() as session:
            bulletin = services.get_bulletin(session, bulletin_id)
        if bulletin.status not in ("pending", "approved") or not bulletin.text.strip():
            return False
        if any(a.language == VIETNAMESE for a in bulletin.audio):
            return False
        try:
            result = render_text(bulletin.text, self._tts, self._store, lexicon=self._lexicon())
        except TtsError as exc:
            log.error("bulletin %s: speech could not be rendered: %s", bulletin_id, exc)
            return False
        with self._db.session() as session:
            now = self._clock()
            register_render(session, now, result, VIETNAMESE)
            services.attach_audio(
                session, bulletin_id, now, language=VIETNAMESE, kind="tts", asset_sha256=result.sha256
            )
        log.info("bulletin %s: speech %s by %s", bulletin_id, result.sha256[:12], result.engine)
        return True
