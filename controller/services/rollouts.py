"""Stored over-the-air rollouts of loaxa-agent, and the fleet's health they are judged on.

Owns the rollouts table's rules: one running rollout at a time, its waves from the devices' registry, each
device's outcome (waiting → sent → updated → tone_sent → healthy, or failed), cancelling, and what the
fleet last reported (agent version from births and heartbeats, online, the last test tone it finished).
The wave logic itself is controller.rollout (pure); sending commands is the caller's (controller.rollout_job).
Must not touch MQTT, HTTP or the clock; flushes, never commits.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller import rollout as waves_logic
from controller.db.models import Device, DeviceEvent, Rollout
from controller.services.audit import write_audit
from controller.services.errors import Conflict, InvalidTransition, NotFound, ValidationFailed

TONE_PREFIX = "test-tone-"  # the agent names a test tone's play "test-tone-{command seq}"
OUTCOMES = ("waiting", "sent", "updated", "tone_sent", "healthy", "failed")


class RolloutRunning(Conflict):
    """Another rollout is still running."""

    code = "rollout_running"


class RolloutNotRunning(InvalidTransition):
    """The rollout has ended already."""

    code = "rollout_not_running"


class BadRollout(ValidationFailed):
    """The waves cannot be made: no devices, an unknown canary, a share out of range."""

    code = "bad_rollout"


@dataclass(frozen=True)
class RolloutView:
    """A stored rollout as people see it."""

    id: int
    version: str
    sha256: str
    state: str
    wave: int
    waves: tuple[tuple[str, ...], ...]
    outcomes: dict[str, str]
    deadline_s: int
    started_by: str | None
    started_at: datetime
    wave_started_at: datetime
    updated_at: datetime

    def wave_progress(self) -> list[dict[str, Any]]:
        """Per wave: its devices, how many are healthy, failed, and whether it is done, current or later."""
        progress = []
        for index, devices in enumerate(self.waves):
            counts = Counter(self.outcomes.get(device, "waiting") for device in devices)
            if index < self.wave or (index == self.wave and self.state == "done"):
                status = "done"
            elif index == self.wave:
                status = self.state
            else:
                status = "pending"
            progress.append(
                {
                    "index": index,
                    "devices": list(devices),
                    "healthy": counts["healthy"],
                    "failed": counts["failed"],
                    "total": len(devices),
                    "status": status,
                }
            )
        return progress

    def to_json(self) -> dict[str, Any]:
        """The REST shape."""
        return {
            "id": self.id,
            "version": self.version,
            "sha256": self.sha256,
            "state": self.state,
            "wave": self.wave,
            "waves": self.wave_progress(),
            "outcomes": self.outcomes,
            "deadline_s": self.deadline_s,
            "started_by": self.started_by,
            "started_at": _iso(self.started_at),
            "wave_started_at": _iso(self.wave_started_at),
            "updated_at": _iso(self.updated_at),
        }


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _view(row: Rollout) -> RolloutView:
    return RolloutView(
        id=row.id,
        version=row.version,
        sha256=row.sha256,
        state=row.state,
        wave=row.wave,
        waves=tuple(tuple(wave) for wave in row.waves),
        outcomes={str(k): str(v) for k, v in row.outcomes.items()},
        deadline_s=row.deadline_s,
        started_by=row.started_by,
        started_at=row.started_at,
        wave_started_at=row.wave_started_at,
        updated_at=row.updated_at,
    )


def pure(row: Rollout | RolloutView) -> waves_logic.Rollout:
    """The stored rollout as controller.rollout's value (only a running one is advanced)."""
    state: waves_logic.RolloutState = "failed" if row.state == "cancelled" else row.state  # type: ignore[assignment]
    return waves_logic.Rollout(
        version=row.version,
        waves=tuple(tuple(wave) for wave in row.waves),
        wave=row.wave,
        wave_started_at=row.wave_started_at,
        deadline=timedelta(seconds=row.deadline_s),
        state=state,
    )


def fleet_health(session: Session) -> dict[str, waves_logic.DeviceHealth]:
    """Every device's agent version, online flag and the end of the last test tone it reported."""
    tones = dict(
        session.execute(
            select(DeviceEvent.device_id, func.max(DeviceEvent.at))
            .where(DeviceEvent.type == "finished", DeviceEvent.item_id.startswith(TONE_PREFIX))
            .group_by(DeviceEvent.device_id)
        ).all()
    )
    rows = session.execute(select(Device.id, Device.agent_version, Device.online))
    return {
        device_id: waves_logic.DeviceHealth(
            agent_version=version, online=bool(online), last_tone_at=tones.get(device_id)
        )
        for device_id, version, online in rows
    }


def version_counts(session: Session) -> dict[str, int]:
    """How many devices run each agent version ("unknown": never reported one), most common first."""
    counts = Counter(version or "unknown" for version in session.scalars(select(Device.agent_version)))
    return dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


def start_rollout(
    session: Session,
    now: datetime,
    *,
    version: str,
    sha256: str,
    canary: Sequence[str],
    share_percent: int,
    deadline: timedelta,
    actor: str | None,
) -> RolloutView:
    """Store a new running rollout over every provisioned device; the job sends its first wave."""
    running = session.scalar(select(Rollout.id).where(Rollout.state == "running"))
    if running is not None:
        raise RolloutRunning(
            f"Đợt cập nhật số {running} đang chạy. Hãy chờ nó xong hoặc huỷ nó (loaxa update cancel) "
            "trước khi bắt đầu đợt mới."
        )
    devices = list(session.scalars(select(Device.id).order_by(Device.id)))
    if not devices:
        raise BadRollout("Chưa có cụm loa nào được đăng ký, nên không có gì để cập nhật.")
    try:
        waves = waves_logic.plan_waves(devices, canary, share_percent)
    except ValueError as exc:
        unknown = sorted(set(canary) - set(devices))
        if unknown:
            raise BadRollout(
                f"Không có cụm loa {', '.join(unknown)}; hãy chọn cụm thử nghiệm trong danh sách thiết bị."
            ) from exc
        raise BadRollout(f"Tỉ lệ đợt hai phải từ 1 đến 100 (%), không phải {share_percent}.") from exc
    first = waves_logic.start(version, waves, now, deadline).rollout
    row = Rollout(
        version=version,
        sha256=sha256,
        waves=[list(wave) for wave in first.waves],
        wave=first.wave,
        wave_started_at=first.wave_started_at,
        deadline_s=int(deadline.total_seconds()),
        state="running",
        outcomes=dict.fromkeys(devices, "waiting"),
        started_by=actor,
        started_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    write_audit(
        session, now, actor=actor, action="rollout_started", entity="rollout", entity_id=row.id,
        detail={"version": version, "sha256": sha256, "waves": [len(wave) for wave in waves]},
    )  # fmt: skip
    return _view(row)


def _row(session: Session, rollout_id: int) -> Rollout:
    # Locked and read afresh: the leader's job and an admin's cancel may change the same row at once.
    row = session.get(Rollout, rollout_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"Không có đợt cập nhật số {rollout_id}; xem danh sách bằng: loaxa update status.")
    return row


def cancel_rollout(session: Session, rollout_id: int, now: datetime, *, actor: str | None) -> RolloutView:
    """Stop a running rollout (no wave starts any more), or acknowledge a failed one."""
    row = _row(session, rollout_id)
    if row.state not in ("running", "failed"):
        raise RolloutNotRunning(f"Đợt cập nhật số {rollout_id} đã kết thúc ({row.state}); không cần huỷ.")
    row.state, row.updated_at = "cancelled", now
    write_audit(session, now, actor=actor, action="rollout_cancelled", entity="rollout", entity_id=rollout_id)
    session.flush()
    return _view(row)


def running_rollout(session: Session) -> RolloutView | None:
    """The running rollout, if any."""
    row = session.scalar(select(Rollout).where(Rollout.state == "running").order_by(Rollout.id))
    return None if row is None else _view(row)


def recent_rollouts(session: Session, limit: int = 5) -> list[RolloutView]:
    """The newest rollouts, newest first."""
    rows = session.scalars(select(Rollout).order_by(Rollout.id.desc()).limit(limit))
    return [_view(row) for row in rows]


def save_step(
    session: Session,
    rollout_id: int,
    *,
    looked_at: waves_logic.Rollout,
    step: waves_logic.Step,
    fleet: dict[str, waves_logic.DeviceHealth],
    now: datetime,
) -> RolloutView | None:
    """Store one look at a running rollout: its wave and state, and each started device's outcome.

    `looked_at` is the rollout `advance` was given: the devices of its waves are judged against its wave's
    start (a rollout that moved on starts the next wave's clock at `now`). Returns None when the rollout
    was cancelled meanwhile (nothing is changed then).
    """
    row = _row(session, rollout_id)
    if row.state != "running":
        return None
    outcomes = dict(row.outcomes)
    for wave in looked_at.waves[: looked_at.wave + 1]:
        for device in wave:
            outcomes[device] = _outcome(outcomes.get(device, "waiting"), fleet.get(device), looked_at)
    moved = step.rollout
    for device in moved.failed_devices:
        outcomes[device] = "failed"
    row.wave, row.wave_started_at, row.state = moved.wave, moved.wave_started_at, moved.state
    row.outcomes, row.updated_at = outcomes, now
    session.flush()
    return _view(row)


def _outcome(before: str, health: waves_logic.DeviceHealth | None, rollout: waves_logic.Rollout) -> str:
    if before in ("healthy", "failed"):
        return before
    if (
        health is not None
        and health.agent_version == rollout.version
        and health.online
        and health.last_tone_at is not None
        and health.last_tone_at >= rollout.wave_started_at
    ):
        return "healthy"
    if before == "sent" and health is not None and health.agent_version == rollout.version:
        return "updated"
    return before


def mark_sent(session: Session, rollout_id: int, devices: Sequence[str], outcome: str, now: datetime) -> None:
    """Note that the broker took a command for `devices` (`sent` for update, `tone_sent` for a tone)."""
    row = _row(session, rollout_id)
    if row.state != "running" or not devices:
        return
    outcomes = dict(row.outcomes)
    outcomes.update(dict.fromkeys(devices, outcome))
    row.outcomes, row.updated_at = outcomes, now
    session.flush()
