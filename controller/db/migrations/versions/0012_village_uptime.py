"""Uptime rollup: `village_uptime`, each village's mean cluster uptime over 24 h and 7 d (issue 18).

The scheduler leader fills it every minute; the pages above a commune read it instead of summing every
coverage span per request, and sum the spans themselves while it is empty or stale.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "village_uptime",
        sa.Column("village_id", sa.String(length=64), nullable=False),
        sa.Column("clusters", sa.Integer(), nullable=False),
        sa.Column("uptime_24h", sa.Float(), nullable=False),
        sa.Column("uptime_7d", sa.Float(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["village_id"],
            ["villages.id"],
            name=op.f("fk_village_uptime_village_id_villages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("village_id", name=op.f("pk_village_uptime")),
    )


def downgrade() -> None:
    op.drop_table("village_uptime")
