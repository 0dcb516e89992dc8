"""The wave logic of an over-the-air agent update, as pure functions with time as an input.

Owns: splitting the fleet into waves (the canary devices, then a share of the rest, then all) and deciding,
from what the agents last reported, whether the current wave is healthy, still waiting, or failed, and what
to send next. It must not touch the database, MQTT or the clock: the caller passes the devices' state and
`now`, publishes the commands this returns and stores the returned Rollout.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

RolloutState = Literal["running", "done", "failed"]
Waves = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class DeviceHealth:
    """What the controller last heard from one agent."""

    agent_version: str | None
    online: bool
    last_tone_at: datetime | None  # when it last reported playing a test tone


@dataclass(frozen=True)
class Rollout:
    """One update of loaxa-agent to `version` across the fleet, wave after wave."""

    version: str
    waves: Waves
    wave: int  # index of the wave being updated now
    wave_started_at: datetime
    deadline: timedelta  # how long a wave may take to report the version, be online and play a tone
    state: RolloutState = "running"
    failed_devices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """The outcome of one look at a rollout: its new state and the commands to publish."""

    rollout: Rollout
    send_update: tuple[str, ...] = ()  # devices of a wave that starts now
    send_tone: tuple[str, ...] = ()  # devices that run the new version but have not played a tone yet


def plan_waves(devices: Sequence[str], canary: Sequence[str], share_percent: int) -> Waves:
    """Split `devices` into the canary wave, `share_percent` % of the rest (at least one), then the rest."""
    if not 0 < share_percent <= 100:
        raise ValueError("share_percent must be between 1 and 100")
    unknown = sorted(set(canary) - set(devices))
    if unknown:
        raise ValueError(f"canary devices not in the fleet: {', '.join(unknown)}")
    first = tuple(sorted(set(canary)))
    rest = sorted(set(devices) - set(first))
    cut = max(1, -(-len(rest) * share_percent // 100)) if rest else 0
    return tuple(wave for wave in (first, tuple(rest[:cut]), tuple(rest[cut:])) if wave)


def start(version: str, waves: Waves, now: datetime, deadline: timedelta) -> Step:
    """Begin a rollout: the first wave gets the update command now."""
    if not waves:
        raise ValueError("a rollout needs at least one device")
    rollout = Rollout(version=version, waves=waves, wave=0, wave_started_at=now, deadline=deadline)
    return Step(rollout, send_update=waves[0])


def _healthy(health: DeviceHealth | None, rollout: Rollout) -> bool:
    return (
        health is not None
        and health.online
        and health.agent_version == rollout.version
        and health.last_tone_at is not None
        and health.last_tone_at >= rollout.wave_started_at
    )


def advance(rollout: Rollout, fleet: Mapping[str, DeviceHealth], now: datetime) -> Step:
    """Look at the current wave: move on when all its devices are healthy, fail it after the deadline."""
    if rollout.state != "running":
        return Step(rollout)
    wave = rollout.waves[rollout.wave]
    sick = tuple(device for device in wave if not _healthy(fleet.get(device), rollout))
    if not sick:
        if rollout.wave + 1 == len(rollout.waves):
            return Step(replace(rollout, state="done"))
        following = rollout.wave + 1
        moved = replace(rollout, wave=following, wave_started_at=now)
        return Step(moved, send_update=rollout.waves[following])
    if now - rollout.wave_started_at > rollout.deadline:
        return Step(replace(rollout, state="failed", failed_devices=sick))
    ready_for_tone = tuple(
        device
        for device in sick
        if (health := fleet.get(device)) is not None
        and health.online
        and health.agent_version == rollout.version
    )
    return Step(rollout, send_tone=ready_for_tone)
