"""The agent's configuration: agent.toml read with tomllib into frozen dataclasses, validated at the edge.

Owns the file format and its checks. It must not open connections, files other than the config itself,
or GPIO: it only says what the agent will use. Relative paths are relative to the config file.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast

from edge_agent.clocksync import ClockSource
from protocol.broker_url import parse_broker_url
from protocol.signing import load_public_key_b64

Backend = Literal["file", "mpg123", "aplay", "ffplay"]
BACKENDS: Final[tuple[Backend, ...]] = ("file", "mpg123", "aplay", "ffplay")
EXAMPLE: Final = """\
device_id = "tule-c01"
heartbeat_interval_s = 30
events_per_s = 50                # events published per second at most (bursts of up to 50 after a pause)

[mqtt]
url = "mqtt://127.0.0.1:1883"   # mqtts://host:8883 with ca_file for TLS
password = "device-secret"
# ca_file = "/etc/loaxa/ca.pem"

[controller]
public_keys = ["<base64 raw Ed25519 public key>"]

[paths]
state_dir = "state"
cache_dir = "cache"
cache_limit_mb = 500

[player]
backend = "file"          # file | mpg123 | aplay | ffplay
output_dir = "played"     # file backend only
alsa_device = "default"
mixer_control = "Master"
# decode_files = true     # file backend: decode bulletins like ALSA does (dead-air check)
dead_air_s = 10           # silence (< -50 dBFS) or no audio for longer than this is reported as dead air
playout_delay_s = 2.0     # relay and live audio airs this long after the source made it (same on every Pi)

[amplifier]
gpio_pin = 17             # leave out when there is no relay
warmup_s = 2.0

[clock]
source = "ntp"            # ntp: trust the clock only when NTP synced it; system: the host keeps it
"""


class ConfigError(ValueError):
    """The agent config is missing, unreadable or wrong; the message names the key and the fix."""


@dataclass(frozen=True)
class MqttConfig:
    """Where and as whom the agent connects (the username is always the device id)."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    keepalive_s: int = 30
    tls: bool = False
    ca_file: Path | None = None  # None with tls: the system's CA store
    liveness_s: float = 600.0
    reconnect_max_s: int = 120


@dataclass(frozen=True)
class PlayerConfig:
    """How audio leaves the Pi: a real ALSA player or a file sink (demo, tests)."""

    backend: Backend
    output_dir: Path | None
    alsa_device: str = "default"
    mixer_control: str = "Master"
    # Bulletins go through the PCM path (decoded, level-checked, then out), as every ALSA backend does;
    # the file sink copies files unless asked, so simulated fleets with placeholder audio stay cheap.
    decode_files: bool = True
    dead_air_s: float = 10.0
    # Relay and live audio airs this long after the source made it: one value for every agent of a commune
    # (clusters within earshot air together), above connection + decoder start + network jitter.
    playout_delay_s: float = 2.0


@dataclass(frozen=True)
class AmplifierConfig:
    """The amplifier relay: a GPIO pin (BCM numbering) or none, and its warm-up time."""

    gpio_pin: int | None = None
    warmup_s: float = 0.0


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent needs to run, already checked."""

    device_id: str
    mqtt: MqttConfig
    public_keys: tuple[str, ...]
    state_dir: Path
    cache_dir: Path
    cache_limit_mb: int
    player: PlayerConfig
    amplifier: AmplifierConfig
    heartbeat_interval_s: float = 30.0
    download_attempts: int = 5
    download_backoff_s: float = 2.0
    clock_source: ClockSource = "ntp"
    events_per_s: float = 50.0


class _Section:
    """Typed access to one TOML table, with errors that name the key."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"[{where}] must be a table")
        self._data: dict[str, Any] = data
        self._where = where

    def _key(self, key: str) -> str:
        return f"{self._where}.{key}" if self._where else key

    def get(self, key: str, kind: type | tuple[type, ...], default: object = ...) -> Any:
        """The value of `key`, of type `kind`; a default when given, else the key is required."""
        if key not in self._data:
            if default is ...:
                raise ConfigError(f"missing key {self._key(key)!r}")
            return default
        value = self._data[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise ConfigError(f"{self._key(key)} must not be true/false")
        if not isinstance(value, kind):
            raise ConfigError(f"{self._key(key)} has the wrong type: {type(value).__name__} ({value!r:.40})")
        return value

    def table(self, key: str) -> "_Section":
        """A sub-table (an empty one when absent)."""
        return _Section(self._data.get(key, {}), key)


def _positive(value: float, key: str) -> float:
    if value <= 0:
        raise ConfigError(f"{key} must be above 0, got {value}")
    return value


def _playout_delay(value: float) -> float:
    # Below half a second a connection's start outruns it; past 30 s a relay would lose its slot's start.
    if not 0.5 <= value <= 30:
        raise ConfigError(
            f"player.playout_delay_s must be 0.5–30 s, got {value}; keep the same value on every agent"
        )
    return float(value)


def _parse_url(url: str) -> tuple[str, int, bool]:
    try:
        return parse_broker_url(url)
    except ValueError as exc:
        raise ConfigError(f"mqtt.url: {exc}") from exc


def _keys(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(k, str) for k in raw):
        raise ConfigError("controller.public_keys must be a non-empty list of base64 Ed25519 keys")
    for index, key in enumerate(raw):
        try:
            load_public_key_b64(key)
        except ValueError as exc:
            raise ConfigError(f"controller.public_keys[{index}]: {exc}") from exc
    return tuple(raw)


def parse_config(data: dict[str, Any], base: Path) -> AgentConfig:
    """Build and check the config from parsed TOML; relative paths are taken from `base`."""
    top = _Section(data, "")
    device_id = top.get("device_id", str)
    if not device_id or any(c in device_id for c in "/+#") or len(device_id) > 64:
        raise ConfigError(f"device_id must be 1–64 characters without / + #, got {device_id!r}")
    mqtt, paths, player, amp, clock = (
        top.table("mqtt"),
        top.table("paths"),
        top.table("player"),
        top.table("amplifier"),
        top.table("clock"),
    )
    host, port, tls = _parse_url(mqtt.get("url", str))
    ca_file = mqtt.get("ca_file", str, None)
    if ca_file is not None and not tls:
        raise ConfigError(
            f"mqtt.ca_file ({ca_file!r}) is only used with TLS: write the url as mqtts://host:8883"
        )
    liveness_s = _positive(float(mqtt.get("liveness_s", (int, float), 600.0)), "mqtt.liveness_s")
    reconnect_max_s = int(_positive(mqtt.get("reconnect_max_s", int, 120), "mqtt.reconnect_max_s"))
    if liveness_s <= reconnect_max_s:
        raise ConfigError(
            f"mqtt.liveness_s ({liveness_s}) must be above mqtt.reconnect_max_s ({reconnect_max_s}),"
            " or the agent restarts while paho is still waiting to reconnect"
        )
    source = clock.get("source", str, "ntp")
    if source not in ("ntp", "system"):
        raise ConfigError(
            f"clock.source must be 'ntp' (a Pi) or 'system' (a host keeps the clock), got {source!r}"
        )
    username = mqtt.get("username", str, device_id)
    if username != device_id:
        raise ConfigError(f"mqtt.username must equal device_id ({device_id!r}), got {username!r}")
    backend = player.get("backend", str, "mpg123")
    if backend not in BACKENDS:
        raise ConfigError(f"player.backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    output_dir = player.get("output_dir", str, None)
    if backend == "file" and output_dir is None:
        raise ConfigError("player.backend 'file' needs player.output_dir")
    pin = amp.get("gpio_pin", int, None)
    if pin is not None and not 0 <= pin <= 27:
        raise ConfigError(f"amplifier.gpio_pin must be a BCM pin 0–27, got {pin}")
    warmup = float(amp.get("warmup_s", (int, float), 0.0))
    if warmup < 0:
        raise ConfigError(f"amplifier.warmup_s must not be negative, got {warmup}")
    return AgentConfig(
        device_id=device_id,
        mqtt=MqttConfig(
            host=host,
            port=port,
            username=username,
            password=mqtt.get("password", str),
            keepalive_s=int(_positive(mqtt.get("keepalive_s", int, 30), "mqtt.keepalive_s")),
            tls=tls,
            ca_file=None if ca_file is None else base / ca_file,
            liveness_s=liveness_s,
            reconnect_max_s=reconnect_max_s,
        ),
        public_keys=_keys(top.table("controller").get("public_keys", (list, str))),
        state_dir=base / paths.get("state_dir", str),
        cache_dir=base / paths.get("cache_dir", str),
        cache_limit_mb=int(_positive(paths.get("cache_limit_mb", int, 500), "paths.cache_limit_mb")),
        player=PlayerConfig(
            backend=cast(Backend, backend),
            output_dir=None if output_dir is None else base / output_dir,
            alsa_device=player.get("alsa_device", str, "default"),
            mixer_control=player.get("mixer_control", str, "Master"),
            decode_files=backend != "file" or player.get("decode_files", bool, False),
            dead_air_s=_positive(float(player.get("dead_air_s", (int, float), 10.0)), "player.dead_air_s"),
            playout_delay_s=_playout_delay(player.get("playout_delay_s", (int, float), 2.0)),
        ),
        amplifier=AmplifierConfig(gpio_pin=pin, warmup_s=warmup),
        heartbeat_interval_s=_positive(
            float(top.get("heartbeat_interval_s", (int, float), 30.0)), "heartbeat_interval_s"
        ),
        download_attempts=int(_positive(top.get("download_attempts", int, 5), "download_attempts")),
        download_backoff_s=_positive(
            float(top.get("download_backoff_s", (int, float), 2.0)), "download_backoff_s"
        ),
        clock_source=cast(ClockSource, source),
        events_per_s=_positive(float(top.get("events_per_s", (int, float), 50.0)), "events_per_s"),
    )


def load_config(path: Path) -> AgentConfig:
    """Read and check agent.toml; raise ConfigError with an actionable message."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist; example:\n{EXAMPLE}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    try:
        return parse_config(data, path.resolve().parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
