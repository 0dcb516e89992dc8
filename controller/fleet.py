"""Simulated loudspeaker clusters: real edge agents, many in one process, each with its own identity.

Each agent has its own MQTT connection, credentials, state database and cache, and plays into a file
sink. Used by `loaxa demo` and `loaxa simulate`. Owns only starting and stopping them.
"""

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from controller.bundle import AgentBundle
from edge_agent.agent import Agent
from edge_agent.config import AgentConfig, load_config

log = logging.getLogger(__name__)


def write_simulated_agent(root: Path, bundle: AgentBundle) -> AgentConfig:
    """Write a file-sink agent's agent.toml under `root/<device id>/` and load it back (validated)."""
    home = root / bundle.device_id
    path = home / "agent.toml"
    bundle.write(path)
    return load_config(path)


def simulated_bundle(
    device_id: str, password: str, mqtt_url: str, public_keys: tuple[str, ...], heartbeat_interval_s: float
) -> AgentBundle:
    """A bundle for an agent that plays into files next to its config."""
    return AgentBundle(
        device_id=device_id,
        mqtt_url=mqtt_url,
        mqtt_password=password,
        public_keys=public_keys,
        backend="file",
        output_dir="played",
        state_dir="state",
        cache_dir="cache",
        heartbeat_interval_s=heartbeat_interval_s,
    )


class Fleet:
    """A set of agents running on threads of this process."""

    def __init__(self, configs: Iterable[AgentConfig]) -> None:
        self.agents = [Agent(config) for config in configs]
        self._threads: list[threading.Thread] = []

    def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Start every agent, reporting (started, total) as it goes."""
        total = len(self.agents)
        for number, agent in enumerate(self.agents, start=1):
            thread = threading.Thread(target=agent.run, name=f"agent-{agent.config.device_id}", daemon=True)
            thread.start()
            self._threads.append(thread)
            agent.started.wait(10)
            if progress is not None:
                progress(number, total)

    def connected(self) -> int:
        """How many agents hold a broker connection right now."""
        return sum(agent.connected for agent in self.agents)

    def stop(self) -> None:
        """Stop every agent (each announces itself offline) and wait for their threads."""
        for agent in self.agents:
            agent.stop()
        for thread in self._threads:
            thread.join(timeout=10)
