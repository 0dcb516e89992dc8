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
    PLAY_SOURCES,
    PLAY_STATUSES,
    Asset,
    Bulletin,
    BulletinAudio,
    Delivery,
    InboxEntry,
    Play,
)
from controller.db.models.cap import CapAlert, CapSource, Drill
from controller.db.models.devices import Device, DeviceCoverage, DeviceEvent, Plan
from controller.db.models.live import LIVE_STATES, LiveSession
from controller.db.models.onair import DEAD_AIR_KINDS, DeadAir, PlayGap
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
from controller.db.models.rollouts import ROLLOUT_STATES, Rollout
from controller.db.models.streaming import Station
from controller.db.models.uptime import VillageUptime

__all__ = [
    "AREA_LEVELS",
    "AUDIO_KINDS",
    "BULLETIN_STATUSES",
    "DEAD_AIR_KINDS",
    "DELIVERY_STATES",
    "INBOX_ORDERS",
    "INBOX_STATES",
    "LIVE_STATES",
    "PLAY_SOURCES",
    "PLAY_STATUSES",
    "ROLES",
    "ROLLOUT_STATES",
    "ApiToken",
    "Area",
    "Asset",
    "AuditEntry",
    "Base",
    "Bulletin",
    "BulletinAudio",
    "CapAlert",
    "CapSource",
    "Commune",
    "DeadAir",
    "Delivery",
    "Device",
    "DeviceCoverage",
    "DeviceEvent",
    "Drill",
    "InboxEntry",
    "LiveSession",
    "PasswordReset",
    "Plan",
    "Play",
    "PlayGap",
    "Rollout",
    "Station",
    "User",
    "Village",
    "VillageUptime",
]
