"""Request and response bodies of `/api/v1/live` (issue 13, item 3)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LiveIn(BaseModel):
    """Go live: a title and the targets (`{}` for every village of the commune)."""

    title: str = Field(description="What the session is about, shown in the as-run log and the archive.")
    targets: dict[str, Any] = Field(
        default_factory=dict, description='{} (every village), {"villages": [ids]} or {"clusters": [ids]}.'
    )


class LiveOut(BaseModel):
    """A live session; `ingest_url` only in the answer to the one who opened it."""

    model_config = ConfigDict(frozen=True)

    id: str
    user: str
    title: str
    targets: dict[str, Any]
    devices: list[str]
    state: str = Field(description="pending (needs a second person), waiting (no audio yet), on_air, ended.")
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None = Field(
        description="ended, source_gone, silent, no_chunks, controller_stopped or error."
    )
    recording_url: str | None = Field(description="The archived recording (signed, expiring), once stored.")
    ingest_url: str | None = Field(
        None, description="Where to send the audio (Icecast source protocol: ffmpeg -f mp3 icecast://…)."
    )


class LiveList(BaseModel):
    """Newest live sessions first."""

    items: list[LiveOut]


class ChunkOut(BaseModel):
    """A browser chunk taken (or a repeat ignored)."""

    seq: int
    accepted: bool
    state: str
