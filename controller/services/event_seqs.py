"""Reads over the seqs of stored device events, for finding the ones never stored (issue 20, item 5).

Owns these queries only; storing events is controller.services.ingest, and deciding when to ask a device
for missing ones is controller.mqtt.event_gaps.
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import DeviceEvent


def stored_seq_below(session: Session, device_id: str, seq: int) -> int | None:
    """The highest event seq stored for `device_id` below `seq` (None when there is none)."""
    return session.scalar(
        select(func.max(DeviceEvent.seq)).where(DeviceEvent.device_id == device_id, DeviceEvent.seq < seq)
    )
