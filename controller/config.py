"""Controller settings: one pydantic model per section, read from the environment on request, never at import.

Every field can be set with an environment variable `LOAXA_<SECTION>_<FIELD>` (e.g. `LOAXA_MQTT_URL`),
and the few that operators touch most have short names: `LOAXA_PORT`, `LOAXA_SCHEDULE`, `LOAXA_DATA_DIR`,
`LOAXA_DATABASE_URL`.
"""

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

import schedules
from controller.assets.signing import sign_asset_url
from protocol import MAX_URL

# Signed asset URLs expire within a year, so their expiry stays a 10-digit Unix time for a long while.
_LATEST_EXPIRY = datetime(2200, 1, 1, tzinfo=UTC)
DEFAULT_SCHEDULE = schedules.DEFAULT
DEFAULT_PIPER_VOICE = "vi_VN-vais1000-medium"
_LOGIN = re.compile(r"[A-Za-z0-9._-]{1,64}")  # an Icecast user name that fits in an icecast:// URL as is


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSettings(_Section):
    """The web server (UI, REST API and asset downloads for agents)."""

    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 to serve the whole network.")
    port: int = Field(8080, ge=1, le=65535, description="TCP port (LOAXA_PORT).")
    public_url: str | None = Field(
        None,
        description="Base URL agents use to download assets, e.g. http://10.0.0.2:8080 (default: host:port).",
    )
    asset_url_ttl_s: int = Field(
        7 * 86400, ge=60, le=366 * 86400, description="Lifetime of a signed asset URL in seconds."
    )

    @model_validator(mode="after")
    def _asset_urls_fit_the_wire(self) -> "HttpSettings":
        """A signed asset URL longer than agents read would make every plan refused (issue 20)."""
        longest = len(sign_asset_url(self.public_url or "", "0" * 64, b"", _LATEST_EXPIRY))
        if self.public_url is not None and longest > MAX_URL:
            raise ValueError(
                f"http.public_url dài {len(self.public_url)} ký tự: địa chỉ tải âm thanh sẽ dài "
                f"{longest} ký tự, quá {MAX_URL} ký tự thiết bị chấp nhận; hãy dùng một địa chỉ ngắn hơn"
            )
        return self


class MqttSettings(_Section):
    """The broker: managed (a mosquitto child process) or external (any MQTT 3.1.1/5 broker by URL)."""

    mode: Literal["managed", "external"] = Field("managed", description="Run our own mosquitto or use one.")
    url: str = Field("mqtt://127.0.0.1:1883", description="Broker URL; for managed mode the listen address.")
    username: str = Field("loaxa-controller", description="The controller's MQTT user.")
    client_id: str | None = Field(
        None,
        description="MQTT client id, stable across restarts so the broker keeps the controller's session "
        "(default: user, host name and a hash of data_dir and HTTP port); unique per process.",
    )
    password: str | None = Field(
        None, description="External mode: the controller's password (managed: generated)."
    )
    public_url: str | None = Field(None, description="Broker URL written into agent bundles (default: url).")
    heartbeat_interval_s: int = Field(30, ge=1, description="Agents' heartbeat interval, for liveness.")
    account_check_s: float = Field(
        2.0,
        gt=0,
        le=300,
        description="How often to look for devices added, moved or revoked by another process "
        "(e.g. `loaxa device revoke`): they are planned again, and a managed broker takes them "
        "without a restart.",
    )
    ingest_process: bool = Field(
        False,
        description="Store uplink messages in a child process, so receiving and storing each get a core: "
        "for thousands of clusters (docs/province.md); a commune does not need it.",
    )
    tls_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Managed mode: also listen with TLS on this port (files from `loaxa broker certs`).",
    )
    tls_host: str = Field("0.0.0.0", description="Managed mode: address of the TLS listener.")  # noqa: S104
    bridge_url: str | None = Field(
        None,
        description="A commune relay's bridge to the province broker, e.g. mqtts://mqtt.province:8883, "
        "written by `loaxa broker accounts --relay` (docs/province.md); unset: no bridge.",
    )
    bridge_username: str | None = Field(None, description="The relay's account on the province broker.")
    bridge_password: str | None = Field(None, description="The password of that account.")
    bridge_name: str | None = Field(
        None, description="Bridge connection name and client id on the province broker (default: username)."
    )
    bridge_cafile: Path | None = Field(
        None, description="CA certificate of the province broker for mqtts:// (default: the system's CAs)."
    )
    bridge_protocol: Literal["mqttv311", "mqttv50"] = Field(
        "mqttv311", description="MQTT version the bridge speaks to the province broker."
    )
    bridge_retry_max_s: int = Field(
        30, ge=2, description="Longest wait between the bridge's reconnection attempts (jittered, from 1 s)."
    )

    @model_validator(mode="after")
    def _check_bridge(self) -> "MqttSettings":
        if self.bridge_url is None:
            return self
        if not self.bridge_url.startswith(("mqtt://", "mqtts://")):
            raise ValueError(f"mqtt.bridge_url must look like mqtts://host:8883, got {self.bridge_url!r}")
        if not (self.bridge_username and self.bridge_password):
            raise ValueError(
                "mqtt.bridge_url needs LOAXA_MQTT_BRIDGE_USERNAME and LOAXA_MQTT_BRIDGE_PASSWORD "
                "(the relay's account on the province broker)"
            )
        # Each value becomes one line of mosquitto.conf.
        if any(len(value.split()) != 1 for value in (self.bridge_username, self.bridge_password)):
            raise ValueError("mqtt.bridge_username and bridge_password may not contain spaces or line breaks")
        return self


class TtsSettings(_Section):
    """Text to speech (DESIGN §6)."""

    engines: tuple[str, ...] = Field(
        ("gtts", "piper", "espeak-ng"),
        description="Engine chain in order of preference; piper is skipped while it has no voice file.",
    )
    gtts_timeout_s: float = Field(4.0, gt=0, description="Per-request timeout for Google TTS.")
    espeak_voice: str = Field("vi", description="espeak-ng voice.")
    piper_voice: Path | None = Field(None, description="Path of a Piper .onnx voice file.")


class LeaderSettings(_Section):
    """Which process runs the scheduler when several share one PostgreSQL (docs/operations.md)."""

    name: str = Field(
        "loaxa-scheduler",
        description="Name the advisory lock key is derived from; the same in every process.",
    )
    retry_s: float = Field(
        5.0, gt=0, description="How often a follower tries to become the leader (seconds)."
    )
    check_s: float = Field(2.0, gt=0, description="How often the leader checks that it still holds the lock.")


class AlertSettings(_Section):
    """Alerts to people (LOAXA_ALERTS_*): when, and through which channels; unset channels stay silent."""

    check_s: float = Field(30.0, gt=0, description="How often the alert rules are evaluated.")
    disk_low_mb: float = Field(200.0, ge=0, description="A cluster with less free disk than this is alerted.")
    broker_down_s: float = Field(60.0, ge=0, description="The broker is alerted once down for this long.")
    dead_air_min_s: float = Field(
        10.0, ge=0, description="Silence on air this long or longer (in the last hour) is alerted."
    )
    smtp_host: str | None = Field(None, description="SMTP server for alert e-mails.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str | None = Field(None, description="SMTP login (none: send without login).")
    smtp_password: str | None = Field(None, description="SMTP password.")
    email_from: str = Field("loaxa@localhost", description="Sender address of alert e-mails.")
    email_to: tuple[str, ...] = Field((), description="Recipients of alert e-mails (comma-separated).")
    webhook_url: str | None = Field(None, description="URL that receives each alert as JSON (POST).")
    sms_url: str | None = Field(None, description="SMS gateway URL: POST {to, message} per recipient.")
    sms_token: str | None = Field(None, description="Bearer token for the SMS gateway.")
    sms_to: tuple[str, ...] = Field((), description="Phone numbers that get alerts by SMS (comma-separated).")


class StreamSettings(_Section):
    """The streaming server for relayed stations and live sessions (DESIGN §13, LOAXA_STREAM_*).

    Managed: the controller writes an Icecast2 configuration into data_dir/icecast and runs it as a child.
    External: a province's own Icecast by URL; the controller then only signs listener URLs for it.
    """

    mode: Literal["managed", "external", "off"] = Field(
        "managed", description="Run our own Icecast2, use a province's by URL, or none (no controller relay)."
    )
    host: str = Field("127.0.0.1", description="Managed mode: address Icecast listens on (0.0.0.0: network).")
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Managed mode: Icecast's TCP port (default: a free one, kept in data_dir/icecast/port).",
    )
    url: str | None = Field(
        None, description="External mode: the Icecast base URL, e.g. https://radio.province.vn:8443."
    )
    public_url: str | None = Field(
        None, description="Base URL agents use for the controller's relay mounts (default: host:port or url)."
    )
    source_password: str | None = Field(
        None, description="External mode: the source password of that Icecast (managed: generated)."
    )
    source_user: str = Field(
        "source",
        description="External mode: the source user name (Icecast's global source password takes `source`; "
        "another only where the province's default mount sets its own <username>).",
    )
    admin_user: str | None = Field(
        None, description="External mode, optional: an admin user of that Icecast (reads /admin/listmounts)."
    )
    admin_password: str | None = Field(None, description="External mode, optional: that admin's password.")
    listener_token_ttl_s: int = Field(
        2 * 86400, ge=60, le=31 * 86400, description="Lifetime of a signed listener URL in seconds."
    )
    relay_on_demand: bool = Field(
        True,
        description="Managed mode: a station's relay mount pulls the station only while an agent listens "
        "(docs/streaming.md says why this is the default).",
    )

    @model_validator(mode="after")
    def _check_external(self) -> "StreamSettings":
        if self.mode == "external" and not (self.url and self.source_password):
            raise ValueError(
                "stream.mode=external cần LOAXA_STREAM_URL (địa chỉ Icecast của tỉnh) và "
                "LOAXA_STREAM_SOURCE_PASSWORD (mật khẩu nguồn của máy chủ đó); hãy đặt cả hai"
            )
        for value in (self.url, self.public_url):
            if value is not None and not value.startswith(("http://", "https://")):
                raise ValueError(f"stream: địa chỉ phải bắt đầu bằng http:// hoặc https://, nhận {value!r}")
        if (self.admin_user is None) != (self.admin_password is None):
            raise ValueError(
                "stream: LOAXA_STREAM_ADMIN_USER và LOAXA_STREAM_ADMIN_PASSWORD phải đặt cả hai hoặc bỏ cả "
                "hai (không có chúng, bộ điều khiển đọc status-json.xsl của Icecast)"
            )
        for name, value in (("SOURCE_USER", self.source_user), ("ADMIN_USER", self.admin_user)):
            if value is not None and not _LOGIN.fullmatch(value):
                raise ValueError(
                    f"stream: LOAXA_STREAM_{name} {value!r} không dùng được: chỉ chữ không dấu, số, '.', "
                    "'_', '-' (1–64 ký tự); hãy đặt đúng tên trong icecast.xml của tỉnh"
                )
        return self

    @property
    def base_url(self) -> str | None:
        """Where agents reach the streaming server (None: there is none, or its port is chosen later)."""
        if self.mode == "off":
            return None
        chosen = self.public_url or (self.url if self.mode == "external" else None)
        if chosen is None and self.port is None:
            return None  # a managed Icecast's port is chosen when it is set up: ask the server
        return (chosen or f"http://{self.host}:{self.port}").rstrip("/")


class CapSettings(_Section):
    """CAP alert sources (LOAXA_CAP_*, docs/cap.md): how often polled sources are read, how long to wait."""

    poll_s: float = Field(60.0, gt=0, description="How often the leader reads every polled CAP source.")
    fetch_timeout_s: float = Field(
        10.0, gt=0, le=120, description="How long one fetch of a CAP source or audio resource may take."
    )


class Settings(_Section):
    """Everything the controller needs to run."""

    data_dir: Path = Field(Path("var"), description="Database, assets, keys and the managed broker's files.")
    database_url: str | None = Field(None, description="SQLAlchemy URL (default: SQLite in data_dir).")
    schedule: Path = Field(DEFAULT_SCHEDULE, description="Broadcast window file (LOAXA_SCHEDULE).")
    commune: str = Field("tule", description="Commune id of this deployment (device ids start with it).")
    emergency_two_person: bool = Field(
        False,
        description="Emergencies need two different approvers before they play (LOAXA_EMERGENCY_TWO_PERSON).",
    )
    live_two_person: bool = Field(
        False,
        description="A live session goes on air only once a second user with `live` confirms it "
        "(LOAXA_LIVE_TWO_PERSON).",
    )
    http: HttpSettings = HttpSettings()
    mqtt: MqttSettings = MqttSettings()
    tts: TtsSettings = TtsSettings()
    leader: LeaderSettings = LeaderSettings()
    alerts: AlertSettings = AlertSettings()
    stream: StreamSettings = StreamSettings()
    cap: CapSettings = CapSettings()
    metrics_token: str | None = Field(
        None, description="Bearer token for GET /metrics besides an admin's (LOAXA_METRICS_TOKEN)."
    )
    trusted_proxies: int = Field(
        0, ge=0, le=5, description="Reverse proxies in front of the web server (LOAXA_TRUSTED_PROXIES)."
    )

    @model_validator(mode="after")
    def _check_urls(self) -> "Settings":
        if self.mqtt.mode == "external" and not self.mqtt.password:
            raise ValueError(
                "mqtt.mode=external needs LOAXA_MQTT_PASSWORD (the controller's broker password)"
            )
        return self

    @model_validator(mode="after")
    def _find_piper_voice(self) -> "Settings":
        """Use the voice `loaxa voices install` puts in data_dir/voices when none is configured."""
        installed = self.data_dir / "voices" / f"{DEFAULT_PIPER_VOICE}.onnx"
        if self.tts.piper_voice is None and installed.exists():
            return self.model_copy(update={"tts": self.tts.model_copy(update={"piper_voice": installed})})
        return self

    @property
    def db_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'loaxa.db').resolve()}"

    @property
    def asset_base_url(self) -> str:
        """Where agents fetch assets."""
        return (self.http.public_url or f"http://{self.http.host}:{self.http.port}").rstrip("/")

    @property
    def keys_dir(self) -> Path:
        """Where the controller's signing key and secrets live (mode 0700)."""
        return self.data_dir / "keys"

    @property
    def assets_dir(self) -> Path:
        """The content-addressed audio store."""
        return self.data_dir / "assets"

    @property
    def broker_dir(self) -> Path:
        """The managed mosquitto's config, password file, ACL and persistence."""
        return self.data_dir / "mosquitto"

    @property
    def icecast_dir(self) -> Path:
        """The managed Icecast's config, passwords and logs."""
        return self.data_dir / "icecast"


_SHORT_NAMES = {
    "LOAXA_PORT": ("http", "port"),
    "LOAXA_HOST": ("http", "host"),
    "LOAXA_SCHEDULE": (None, "schedule"),
    "LOAXA_DATA_DIR": (None, "data_dir"),
    "LOAXA_DATABASE_URL": (None, "database_url"),
    "LOAXA_COMMUNE": (None, "commune"),
    "LOAXA_EMERGENCY_TWO_PERSON": (None, "emergency_two_person"),
    "LOAXA_LIVE_TWO_PERSON": (None, "live_two_person"),
    "LOAXA_METRICS_TOKEN": (None, "metrics_token"),
    "LOAXA_TRUSTED_PROXIES": (None, "trusted_proxies"),
}
_SECTIONS = ("http", "mqtt", "tts", "leader", "alerts", "stream", "cap")
_LISTS = (("tts", "engines"), ("alerts", "email_to"), ("alerts", "sms_to"))


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from the environment (LOAXA_*), then explicit overrides (e.g. from CLI flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {section: {} for section in _SECTIONS}
    for name, (section, key) in _SHORT_NAMES.items():
        if name in env:
            _put(values, section, key, env[name])
    for name, value in env.items():
        parts = name.split("_", 2)
        if len(parts) == 3 and parts[0] == "LOAXA" and parts[1].lower() in _SECTIONS:
            _put(values, parts[1].lower(), parts[2].lower(), value)
    for key, override in overrides.items():
        if override is not None:
            section, _, field = key.rpartition("__")
            _put(values, section or None, field, override)
    for section, key in _LISTS:
        table = values[section]
        if isinstance(table, dict) and isinstance(table.get(key), str):
            table[key] = tuple(e.strip() for e in str(table[key]).split(",") if e.strip())
    return Settings.model_validate(values)


def _put(values: dict[str, object], section: str | None, key: str, value: object) -> None:
    if section is None:
        values[key] = value
    else:
        cast(dict[str, object], values[section])[key] = value
