"""Tables for relayed audio (DESIGN §13): radio stations and their stream URLs.

Owns the shape of the table only; the rules (URL shapes, names, retiring) are controller.services.stations'.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.db.models.base import Base


class Station(Base):
    """A radio station a commune relays (VOV1, the province's station): a name and ordered stream URLs."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[str | None] = mapped_column(ForeignKey("communes.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    urls: Mapped[list[str]]
    retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
