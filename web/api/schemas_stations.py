"""Request and response shapes of `/api/v1/stations` (DESIGN §8), as strict pydantic models.

Owns what a client may send about stations and what it gets back; the rules beyond shape (URL forms,
names) are controller.services.stations'.
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_URLS_DOC = (
    "Stream URLs in the order agents try them: http(s), MP3/AAC over HTTP, an Icecast mount or an HLS "
    ".m3u8 playlist (1–7; the controller's own relay is added after them in plans)."
)


class StationIn(BaseModel):
    """A station to relay."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Any = Field(description="Name operators see, e.g. VOV1 or Đài PT-TH Yên Bái.")
    urls: Any = Field(description=_URLS_DOC)
    probe: bool = Field(
        False,
        description="Ask ffprobe whether each URL carries audio (a few seconds); problems are warnings.",
    )


class StationPatch(BaseModel):
    """A new name, new URLs, or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Any = None
    urls: Any = Field(None, description=_URLS_DOC)
    probe: bool = False


class StationOut(BaseModel):
    """A station, with the controller's relay mount when the managed Icecast relays it."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    urls: list[str]
    retired: bool
    relay_mount: str | None
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(
        default_factory=list, description="What the probe found wrong, in Vietnamese."
    )


class StationList(BaseModel):
    """Stations in service, by id."""

    model_config = ConfigDict(frozen=True)

    items: list[StationOut]
