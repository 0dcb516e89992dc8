"""agent.toml: a good file loads into the frozen config; each mistake gives a message naming the key."""

import re
from pathlib import Path

import pytest

from edge_agent.config import EXAMPLE, ConfigError, load_config
from protocol.signing import generate_private_key, public_key_b64

KEY = public_key_b64(generate_private_key().public_key())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def good() -> str:
    return EXAMPLE.replace("<base64 raw Ed25519 public key>", KEY)


def test_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, good()))
    assert config.device_id == "tule-c01" and config.mqtt.username == "tule-c01"
    assert (config.mqtt.host, config.mqtt.port) == ("127.0.0.1", 1883)
    assert config.state_dir == tmp_path / "state" and config.player.output_dir == tmp_path / "played"
    assert config.amplifier.gpio_pin == 17 and config.heartbeat_interval_s == 30
    assert config.public_keys == (KEY,)
    assert "device-secret" not in repr(config)
    # The file sink copies bulletins unless asked to decode them; streams are always decoded.
    assert (config.player.decode_files, config.player.dead_air_s) == (False, 10.0)
    assert config.player.playout_delay_s == 2.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('url = "mqtt://127.0.0.1:1883"', 'url = "http://x"'), "mqtt.url: broker URL must look like"),
        (('url = "mqtt://127.0.0.1:1883"', 'url = "mqtt://h:99999"'), "bad port"),
        ((KEY, "bm90IGEga2V5"), r"public_keys\[0\]"),
        (('backend = "file"', 'backend = "vlc"'), "player.backend must be one of"),
        (('output_dir = "played"     # file backend only', ""), "needs player.output_dir"),
        (("gpio_pin = 17", "gpio_pin = 40"), "gpio_pin must be a BCM pin"),
        (('device_id = "tule-c01"', 'device_id = "a/b"'), "device_id must be"),
        (("heartbeat_interval_s = 30", "heartbeat_interval_s = 0"), "heartbeat_interval_s must be above 0"),
        (
            ("heartbeat_interval_s = 30", 'heartbeat_interval_s = "30"'),
            "heartbeat_interval_s has the wrong type",
        ),
        (('password = "device-secret"', 'password = "x"\nusername = "other"'), "must equal device_id"),
        (('password = "device-secret"', ""), "missing key 'mqtt.password'"),
        (("[mqtt]", "[mqtt"), "not valid TOML"),
        (('# ca_file = "/etc/loaxa/ca.pem"', 'ca_file = "ca.pem"'), "only used with TLS"),
        (
            ('password = "device-secret"', 'password = "x"\nliveness_s = 60'),
            "must be above mqtt.reconnect_max_s",
        ),
        (('source = "ntp"', 'source = "gps"'), "clock.source must be"),
        (("dead_air_s = 10", "dead_air_s = 0"), "player.dead_air_s must be above 0"),
        (("# decode_files = true", 'decode_files = "yes"'), "decode_files has the wrong type"),
        (("playout_delay_s = 2.0", "playout_delay_s = 0.1"), r"player.playout_delay_s must be 0.5–30 s"),
        (("playout_delay_s = 2.0", "playout_delay_s = 60"), "keep the same value on every agent"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = good()
    assert change[0] in text
    with pytest.raises(ConfigError, match=message) as info:
        load_config(write(tmp_path, text.replace(change[0], change[1])))
    assert str(write(tmp_path, "")) in str(info.value) or "not valid TOML" in str(info.value)


def test_missing_file_shows_an_example(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("does not exist; example")):
        load_config(tmp_path / "nope.toml")


def test_tls_url_and_ca_file(tmp_path: Path) -> None:
    text = good().replace('url = "mqtt://127.0.0.1:1883"', 'url = "mqtts://broker.example"')
    text = text.replace('# ca_file = "/etc/loaxa/ca.pem"', 'ca_file = "ca.pem"')
    mqtt = load_config(write(tmp_path, text)).mqtt
    assert (mqtt.port, mqtt.tls, mqtt.ca_file) == (8883, True, tmp_path / "ca.pem")
    assert load_config(write(tmp_path, good())).clock_source == "ntp"
