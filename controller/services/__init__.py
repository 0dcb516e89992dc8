"""Domain services of the controller: plain functions over a SQLAlchemy Session, time passed as `now`.

Owns the domain rules (bulletin workflow, permissions, device registry, ingestion, uptime); must not
touch HTTP, MQTT clients or the clock. Services flush but never commit: the caller's session does.
Errors are the exceptions of controller.services.errors.
"""

from controller.services.assets import asset_for_cache_key, get_asset, latest_speech_engine, register_asset
from controller.services.audit import list_audit, write_audit
from controller.services.bulletin_audio import attach_audio
from controller.services.bulletins import (
    approve,
    cancel,
    create_bulletin,
    expire_bulletins,
    finish,
    get_bulletin,
    list_bulletins,
    reject,
    submit,
    target_devices,
)
from controller.services.deliveries import advance_delivery, plan_delivery
from controller.services.device_board import (
    AlertCandidate,
    VillageTally,
    alert_candidates,
    device_page,
    devices_by_id,
    village_tallies,
)
from controller.services.devices import (
    broker_accounts,
    device_villages,
    get_device,
    list_devices,
    provision_device,
    reset_device_password,
)
from controller.services.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    ServiceError,
    ValidationFailed,
)
from controller.services.ingest import (
    mark_silent_devices_offline,
    prune_events,
    record_event,
    record_heartbeat,
    record_heartbeats,
    record_status,
)
from controller.services.onair import last_dead_air, recent_dead_air
from controller.services.places import create_commune, create_village, list_villages
from controller.services.plans import (
    StoredPlan,
    current_plan,
    load_plans,
    mark_plan_published,
    next_plan_version,
    save_plan,
)
from controller.services.plays import list_plays
from controller.services.seed import seed_demo
from controller.services.uptime import device_uptime, window_uptime
from controller.services.users import (
    authenticate,
    can,
    create_user,
    get_user,
    issue_token,
    list_users,
    require,
    revoke_token,
    set_user_active,
    user_for_token,
)
from controller.services.views import (
    AssetView,
    AudioView,
    AuditView,
    BulletinView,
    DeliveryView,
    DeviceView,
    Gap,
    PlayView,
    ProvisionedDevice,
    UptimeReport,
    UserView,
    VillageView,
)

__all__ = [
    "AlertCandidate",
    "AssetView",
    "AudioView",
    "AuditView",
    "AuthenticationFailed",
    "BulletinView",
    "Conflict",
    "DeliveryView",
    "DeviceView",
    "Forbidden",
    "Gap",
    "InvalidTransition",
    "NotFound",
    "PlayView",
    "ProvisionedDevice",
    "ServiceError",
    "StoredPlan",
    "UptimeReport",
    "UserView",
    "ValidationFailed",
    "VillageTally",
    "VillageView",
    "advance_delivery",
    "alert_candidates",
    "approve",
    "asset_for_cache_key",
    "attach_audio",
    "authenticate",
    "broker_accounts",
    "can",
    "cancel",
    "create_bulletin",
    "create_commune",
    "create_user",
    "create_village",
    "current_plan",
    "device_page",
    "device_uptime",
    "device_villages",
    "devices_by_id",
    "expire_bulletins",
    "finish",
    "get_asset",
    "get_bulletin",
    "get_device",
    "get_user",
    "issue_token",
    "last_dead_air",
    "latest_speech_engine",
    "list_audit",
    "list_bulletins",
    "list_devices",
    "list_plays",
    "list_users",
    "list_villages",
    "load_plans",
    "mark_plan_published",
    "mark_silent_devices_offline",
    "next_plan_version",
    "plan_delivery",
    "provision_device",
    "prune_events",
    "recent_dead_air",
    "record_event",
    "record_heartbeat",
    "record_heartbeats",
    "record_status",
    "register_asset",
    "reject",
    "require",
    "reset_device_password",
    "revoke_token",
    "save_plan",
    "seed_demo",
    "set_user_active",
    "submit",
    "target_devices",
    "user_for_token",
    "village_tallies",
    "window_uptime",
    "write_audit",
]
