"""`loaxa device add`'s bundle (controller/bundle.py) loads through the agent's own config reader."""

from pathlib import Path

from controller.bundle import AgentBundle
from edge_agent.config import load_config
from protocol.signing import generate_private_key, public_key_b64

KEY = public_key_b64(generate_private_key().public_key())


def test_a_pi_bundle_has_tls_ca_key_and_an_ntp_clock(tmp_path: Path) -> None:
    bundle = AgentBundle("tule-c01", "mqtts://loaxa.tule.vn", "s3cret", (KEY,), gpio_pin=17)
    bundle.write(tmp_path / "agent.toml")
    config = load_config(tmp_path / "agent.toml")
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.tls) == ("loaxa.tule.vn", 8883, True)
    assert config.mqtt.ca_file == Path("/etc/loaxa/ca.pem") and config.public_keys == (KEY,)
    assert (config.clock_source, config.player.backend, config.amplifier.warmup_s) == ("ntp", "mpg123", 2.0)
    assert config.state_dir == Path("/var/lib/loaxa/state")
    assert (tmp_path / "agent.toml").stat().st_mode & 0o777 == 0o600


def test_a_plain_bundle_names_the_ca_for_later_and_a_simulated_agent_trusts_its_host(tmp_path: Path) -> None:
    text = AgentBundle(
        "tule-c02", "mqtt://127.0.0.1:1883", "pw", (KEY,), backend="file", output_dir="p"
    ).toml()
    assert '# ca_file = "/etc/loaxa/ca.pem"' in text
    (tmp_path / "agent.toml").write_text(text)
    config = load_config(tmp_path / "agent.toml")
    assert (config.mqtt.tls, config.clock_source) == (False, "system")
