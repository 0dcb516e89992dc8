"""The catalogue of audio assets: what each sha256 is and how it was made.

Owns the assets table; must not read or write audio files (the asset store does).
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Asset
from controller.i18n import Message
from controller.services.errors import NotFound, ValidationFailed
from controller.services.views import AssetView


def _view(asset: Asset) -> AssetView:
    return AssetView(
        sha256=asset.sha256,
        bytes=asset.bytes,
        duration_ms=asset.duration_ms,
        mime=asset.mime,
        engine=asset.engine,
        voice=asset.voice,
        language=asset.language,
        normalized_text=asset.normalized_text,
        cache_key=asset.cache_key,
        created_at=asset.created_at,
    )


def register_asset(
    session: Session,
    now: datetime,
    *,
    sha256: str,
    size: int,
    duration_ms: int,
    mime: str = "audio/mpeg",
    engine: str | None = None,
    voice: str | None = None,
    language: str | None = None,
    normalized_text: str | None = None,
    cache_key: str | None = None,
) -> AssetView:
    """Record an asset; registering the same sha256 again returns the existing record unchanged."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValidationFailed(
            Message("This audio file's fingerprint (sha256) is not valid: 64 hex digits are needed.")
        )
    if size < 1 or duration_ms < 1:
        raise ValidationFailed(
            Message("This audio file is empty or has no length. Record or choose it again.")
        )
    existing = session.get(Asset, sha256)
    if existing is not None:
        return _view(existing)
    asset = Asset(
        sha256=sha256,
        bytes=size,
        duration_ms=duration_ms,
        mime=mime,
        engine=engine,
        voice=voice,
        language=language,
        normalized_text=normalized_text,
        cache_key=cache_key,
        created_at=now,
    )
    session.add(asset)
    session.flush()
    return _view(asset)


def get_asset(session: Session, sha256: str) -> AssetView:
    """One asset by sha256."""
    asset = session.get(Asset, sha256)
    if asset is None:
        raise NotFound(
            Message(
                "This audio file is not on the controller. Upload the recording or read the text aloud first."
            )
        )
    return _view(asset)


def asset_for_cache_key(session: Session, cache_key: str) -> AssetView | None:
    """The newest asset rendered with this cache key, if any (so the same text is not rendered twice)."""
    asset = session.scalar(
        select(Asset).where(Asset.cache_key == cache_key).order_by(Asset.created_at.desc()).limit(1)
    )
    return None if asset is None else _view(asset)


def latest_speech_engine(session: Session) -> str | None:
    """The engine that read the newest Vietnamese speech ("gtts", "piper", "espeak-ng"), or None."""
    return session.scalar(
        select(Asset.engine)
        .where(Asset.language == "vi", Asset.engine.is_not(None), Asset.engine != "recording")
        .order_by(Asset.created_at.desc())
        .limit(1)
    )
