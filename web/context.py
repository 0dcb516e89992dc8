"""What the controller runtime hands the web app: storage, settings, the clock and side-effect hooks.

Owns the shape of that hand-over and the lookup of it inside a request. It must not create any of these
things itself: the runtime (or a test) builds them and passes them to `web.create_app`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from flask import current_app
from prometheus_client import CollectorRegistry

from controller.assets import AssetStore
from controller.cap.intake import CapIntake
from controller.config import Settings
from controller.db import Database
from controller.planning import PlanningResult, load_schedule
from controller.usecases import (
    Announcer,
    AreaUseCases,
    BulletinUseCases,
    DeviceUseCases,
    DrillUseCases,
    InboxUseCases,
    StationUseCases,
)
from controller.usecases.live import LiveUseCases

#: `render_preview(text)` → (normalized_text, sha256 of the stored MP3, engine name).
RenderPreview = Callable[[str], tuple[str, str, str]]
#: `send_command(device_id, command_json)`: sign and publish one command to the device; raise
#: ConnectionError when the broker does not take it (the client gets a 503 and may retry).
SendCommand = Callable[[str, Mapping[str, Any]], None]
#: `on_bulletin_changed(bulletin_id)`: called after every committed bulletin state change.
BulletinChanged = Callable[[int], None]
#: `store_recording(data, language)` → sha256 of the loudness-normalized MP3, stored and registered as an
#: asset (AssetStore + services.assets.register_asset), ready for `attach_audio`. Raises
#: controller.tts.errors.RecordingRejected for audio that cannot be used.
StoreRecording = Callable[[bytes, str], str]
#: `on_device_changed(device_id)`: called after a device is provisioned (rewrite the broker's password file).
DeviceChanged = Callable[[str], None]
#: `health()` → e.g. {"db": "ok", "mqtt": "connected"}; merged into GET /api/v1/health.
Health = Callable[[], Mapping[str, Any]]
#: `on_station_changed(station_id)`: after a station is added, changed or retired (relays, re-plan).
StationChanged = Callable[[int], None]
#: `planning_preview()` → what the planner would do now (placements, deferrals), for the schedule pages.
PlanningPreview = Callable[[], PlanningResult]

_EXTENSION = "loaxa"


@dataclass(frozen=True)
class WebContext:
    """Everything the web layer needs from the runtime; hooks are plain callables so tests can record.

    `store_recording` may be None while recorded audio is not wired: uploads then get a 501.
    `on_device_changed` may be None when nothing needs to react to a new device.
    `planning_preview` may be None: the UI's schedule pages then say there is no plan to show.
    """

    db: Database
    settings: Settings
    clock: Callable[[], datetime]
    assets: AssetStore
    asset_url_secret: bytes
    on_bulletin_changed: BulletinChanged
    render_preview: RenderPreview
    send_command: SendCommand
    health: Health
    store_recording: StoreRecording | None = None
    on_device_changed: DeviceChanged | None = None
    signing_public_keys: tuple[str, ...] = ()  # base64 Ed25519 keys agents verify plans with
    planning_preview: PlanningPreview | None = None
    metrics: CollectorRegistry | None = None  # the controller's figures; /metrics adds the HTTP ones
    on_station_changed: StationChanged | None = None
    live: LiveUseCases | None = None  # live sessions (None without a managed streaming server: 503)

    @cached_property
    def bulletins(self) -> BulletinUseCases:
        """The bulletin use cases every handler calls (they commit, then tell `on_bulletin_changed`)."""
        return BulletinUseCases(
            self.db,
            self.clock,
            self._announcer,
            windows=lambda: load_schedule(self.settings.schedule),
            store_recording=self.store_recording,
            two_person_emergency=self.settings.emergency_two_person,
        )

    @cached_property
    def devices(self) -> DeviceUseCases:
        """The device use cases (they commit, then tell `on_device_changed`)."""
        return DeviceUseCases(self.db, self.clock, self._announcer)

    @cached_property
    def areas(self) -> AreaUseCases:
        """The area use cases (they commit, then tell `on_device_changed` of clusters whose area moved)."""
        return AreaUseCases(self.db, self.clock, self._announcer)

    @cached_property
    def stations(self) -> StationUseCases:
        """The station use cases (they commit, then tell `on_station_changed`)."""
        return StationUseCases(self.db, self.clock, self._announcer)

    @cached_property
    def drills(self) -> DrillUseCases:
        """Starting drills (a short announced test through the one-step emergency)."""
        return DrillUseCases(self.bulletins)

    @cached_property
    def cap_intake(self) -> CapIntake:
        """The CAP inbound adapter, for pushed documents and polls started from the API."""
        return CapIntake(
            self.db, self.clock, self.bulletins, self.drills, timeout_s=self.settings.cap.fetch_timeout_s
        )

    @cached_property
    def inbox(self) -> InboxUseCases:
        """The communes' inbox decisions (they commit, then tell `on_bulletin_changed`)."""
        return InboxUseCases(self.db, self.clock, self._announcer)

    @property
    def _announcer(self) -> Announcer:
        return Announcer(self.on_bulletin_changed, self.on_device_changed, self.on_station_changed)


def web_context() -> WebContext:
    """The context of the running app (inside a request or app context)."""
    context: WebContext = current_app.extensions[_EXTENSION]
    return context


def install(app_extensions: dict[str, Any], context: WebContext) -> None:
    """Attach the context to an app's extension registry."""
    app_extensions[_EXTENSION] = context
