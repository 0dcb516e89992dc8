"""All loaxa tables, importable from one place (Alembic's autogenerate reads Base.metadata from here).

Owns nothing but the re-exports.
"""

from controller.db.models.audit import AuditEntry
from controller.db.models.base import Base
from controller.db.models.bulletins import (
    AUDIO_KINDS,
    BULLETIN_STATUSES,
    DELIVERY_STATES,
    INBOX_ORDERS,
    INBOX_STATES,
    PLAY_STATUSES,
    Asset,
    Bulletin,
    BulletinAudio,
    Delivery,
    InboxEntry,
    Play,
)
from controller.db.models.devices import Device, DeviceCoverage, DeviceEvent, Plan
from controller.db.models.org import (
    AREA_LEVELS,
    ROLES,
    ApiToken,
    Area,
    Commune,
    PasswordReset,
    User,
    Village,
)

__all__ = [
    "AREA_LEVELS",
    "AUDIO_KINDS",
    "BULLETIN_STATUSES",
    "DELIVERY_STATES",
    "INBOX_ORDERS",
    "INBOX_STATES",
    "PLAY_STATUSES",
    "ROLES",
    "ApiToken",
    "Area",
    "Asset",
    "AuditEntry",
    "Base",
    "Bulletin",
    "BulletinAudio",
    "Commune",
    "Delivery",
    "Device",
    "DeviceCoverage",
    "DeviceEvent",
    "InboxEntry",
    "PasswordReset",
    "Plan",
    "Play",
    "User",
    "Village",
]
