"""Picks the real adapters for the ports from the config: the player backend and the amplifier relay.

Owns only that choice (and the version string the agent reports); it must not run anything.
"""

from importlib import metadata

from edge_agent.amplifier import Amplifier, GpioAmplifier, NoAmplifier
from edge_agent.clock import Clock
from edge_agent.config import AgentConfig, ConfigError
from edge_agent.player import FileSinkPlayer, Player, ProcessPlayer


def agent_version() -> str:
    """The installed loaxa version."""
    try:
        return metadata.version("loaxa")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def make_player(config: AgentConfig, clock: Clock) -> Player:
    """The player adapter the config asks for."""
    if config.player.backend == "file":
        if config.player.output_dir is None:
            raise ConfigError("player.backend 'file' needs player.output_dir")
        return FileSinkPlayer(config.player.output_dir, clock, decode_files=config.player.decode_files)
    return ProcessPlayer(config.player.backend, config.player.alsa_device, config.player.mixer_control)


def make_amplifier(config: AgentConfig, clock: Clock) -> Amplifier:
    """The relay adapter when a pin is configured, else a no-op."""
    if config.amplifier.gpio_pin is None:
        return NoAmplifier()
    return GpioAmplifier(config.amplifier.gpio_pin, config.amplifier.warmup_s, clock)
