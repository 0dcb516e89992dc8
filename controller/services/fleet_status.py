"""The state of every cluster in one query, for metrics and alert rules.

Owns reading what the last heartbeat said (clock sync, free disk, agent version) next to online/offline;
it must not decide what is worth an alert (controller.alerts) nor how figures are exported
(controller.metrics).
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Device


@dataclass(frozen=True)
class ClusterState:
    """One cluster as its last messages left it."""

    device_id: str
    village_id: str
    online: bool
    clock_synced: bool | None  # None: no heartbeat yet
    disk_free_mb: float | None
    agent_version: str | None


def cluster_states(session: Session) -> list[ClusterState]:
    """Every provisioned cluster, ordered by id."""
    rows = session.execute(
        select(Device.id, Device.village_id, Device.online, Device.metrics, Device.agent_version).order_by(
            Device.id
        )
    )
    states = []
    for device_id, village_id, online, stored, version in rows:
        metrics = stored if isinstance(stored, dict) else {}
        synced = metrics.get("clock_synced")
        disk = metrics.get("disk_free_mb")
        states.append(
            ClusterState(
                device_id=device_id,
                village_id=village_id,
                online=bool(online),
                clock_synced=synced if isinstance(synced, bool) else None,
                disk_free_mb=_number(disk),
                agent_version=version,
            )
        )
    return states


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
