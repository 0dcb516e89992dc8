"""Storage for the controller: SQLAlchemy models, engine set-up and Alembic migrations.

Owns the schema and how to connect to it; knows nothing of MQTT, HTTP or the domain rules, which live in
controller.services.
"""

from controller.db.engine import Database, make_engine, upgrade
from controller.db.models import (
    ApiToken,
    Area,
    Asset,
    AuditEntry,
    Base,
    Bulletin,
    BulletinAudio,
    Commune,
    DeadAir,
    Delivery,
    Device,
    DeviceCoverage,
    DeviceEvent,
    Plan,
    Play,
    PlayGap,
    Rollout,
    User,
    Village,
)
from controller.db.types import UTCDateTime

__all__ = [
    "ApiToken",
    "Area",
    "Asset",
    "AuditEntry",
    "Base",
    "Bulletin",
    "BulletinAudio",
    "Commune",
    "Database",
    "DeadAir",
    "Delivery",
    "Device",
    "DeviceCoverage",
    "DeviceEvent",
    "Plan",
    "Play",
    "PlayGap",
    "Rollout",
    "UTCDateTime",
    "User",
    "Village",
    "make_engine",
    "upgrade",
]
