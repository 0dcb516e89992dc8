"""The audit trail: one row per change made by a person, a device or the system.

Owns writing and reading audit_log; must not decide whether a change is allowed.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import AuditEntry
from controller.services.views import AuditView


def write_audit(
    session: Session,
    now: datetime,
    *,
    actor: str | None,
    action: str,
    entity: str,
    entity_id: str | int,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Add an audit entry to the session (committed with the change it describes)."""
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail=dict(detail or {}),
        )
    )


def list_audit(
    session: Session, *, entity: str | None = None, entity_id: str | int | None = None, limit: int = 200
) -> list[AuditView]:
    """The newest audit entries, optionally for one entity."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    return [
        AuditView(
            at=row.at,
            actor=row.actor,
            action=row.action,
            entity=row.entity,
            entity_id=row.entity_id,
            detail=row.detail,
        )
        for row in session.scalars(query)
    ]
