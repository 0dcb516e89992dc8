"""Simulated loudspeaker clusters: real edge agents, many in one process, each with its own identity.

Each agent has its own MQTT connection, credentials, state database and cache, and plays into a file
sink. Used by `loaxa demo` and `loaxa simulate`. Owns only starting and stopping them.

`Fleet(..., verifier="cryptography")` has the agents check signatures with `cryptography` (OpenSSL, ~0.1 ms
a check) instead of the agent's own plain-Python verifier (~2.5 ms here, more on a Pi), which a Pi does
not load to keep its RSS ≤ 30 MB. It is for benchmarks that run a hundred agents on one shared CPU, where
each agent's check would otherwise queue behind the others' (on real hardware each agent checks on its
own CPU); what it accepts and refuses is the same. Benchmarks print which verifier they used.

One process holds at most `AGENTS_PER_PROCESS` agents: paho waits on its sockets with select(), which
fails for file descriptors from 1024 (FD_SETSIZE) whatever the process's limit, and each agent holds
about six (MQTT socket, paho's wake-up pair, its state database with WAL and shm). Larger fleets run in
several processes of this module (`python -m loaxa.fleet AGENT.TOML ...`).
"""

import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from controller.bundle import AgentBundle
from controller.children import die_with_parent
from edge_agent.agent import Agent
from edge_agent.config import AgentConfig, load_config

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

log = logging.getLogger(__name__)
FleetVerifier = Literal["agent", "cryptography"]
FLEET_VERIFIERS: tuple[FleetVerifier, ...] = ("agent", "cryptography")


@lru_cache(maxsize=8)
def _public_key(raw: bytes) -> "Ed25519PublicKey | None":
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


def cryptography_check(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Ed25519 check by `cryptography` (OpenSSL): the fleet's stand-in for the agent's own verifier."""
    from cryptography.exceptions import InvalidSignature

    key = _public_key(public_key)
    if key is None:
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


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

    def __init__(self, configs: Iterable[AgentConfig], *, verifier: FleetVerifier = "agent") -> None:
        check = cryptography_check if verifier == "cryptography" else None
        self.agents = [Agent(config, signature_check=check) for config in configs]
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


AGENTS_PER_PROCESS = 100


class FleetProcesses:
    """A fleet as child processes of at most `per_process` agents each (see the module docstring).

    The demo runs one agent per process: an agent that crashes (e.g. a Bus error on a state file cut
    short under it) takes neither the controller nor the other agents with it.
    """

    def __init__(self, configs: Sequence[Path], per_process: int = AGENTS_PER_PROCESS) -> None:
        if not 1 <= per_process <= AGENTS_PER_PROCESS:
            raise ValueError(f"per_process must be 1..{AGENTS_PER_PROCESS}, got {per_process}")
        self.groups = [list(configs[n : n + per_process]) for n in range(0, len(configs), per_process)]
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Start one child per group, reporting (agents started, total) as each child comes up."""
        total = sum(len(group) for group in self.groups)
        started = 0
        for group in self.groups:
            child = subprocess.Popen(
                [sys.executable, "-m", "loaxa.fleet", *map(str, group)],
                stdout=subprocess.PIPE,
                # The agents stop with the process that started them, also after a `kill -9` of it.
                preexec_fn=die_with_parent,  # noqa: PLW1509  # the hook only calls prctl
            )
            self.processes.append(child)
            # The child prints "started N" once its agents run; nothing means it died (its stderr says why).
            if child.stdout is None or not child.stdout.readline():
                self.stop()
                raise RuntimeError(f"a fleet process for {len(group)} agents exited with {child.wait()}")
            started += len(group)
            if progress is not None:
                progress(started, total)

    def running(self) -> int:
        """How many child processes are still alive."""
        return sum(child.poll() is None for child in self.processes)

    def stop(self) -> None:
        """SIGTERM every child (each stops its agents, which announce themselves offline) and wait."""
        for child in self.processes:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.processes:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                log.warning("fleet process %s did not stop within 30 s; killing it", child.pid)
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the agents of the given agent.toml files until SIGTERM (one child of FleetProcesses)."""
    paths = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(paths) <= AGENTS_PER_PROCESS:
        print(f"usage: python -m loaxa.fleet AGENT.TOML ... (1 to {AGENTS_PER_PROCESS})", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    fleet = Fleet(load_config(Path(path)) for path in paths)
    fleet.start()
    print(f"started {len(paths)}", flush=True)
    stop.wait()
    fleet.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
