"""Drill volume: `drills.volume`, the volume (0–100) every cluster plays a drill at (issue 15).

Drills recorded before it keep NULL: they played at each cluster's own volume.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drills") as batch:
        batch.add_column(sa.Column("volume", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drills") as batch:
        batch.drop_column("volume")
