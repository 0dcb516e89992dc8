"""Live sessions (issue 13, item 3): the `live_sessions` table.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("commune_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("recording_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["communes.id"], name=op.f("fk_live_sessions_commune_id_communes")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_live_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    op.create_index(op.f("ix_live_sessions_commune_id"), "live_sessions", ["commune_id"], unique=False)
    op.create_index(op.f("ix_live_sessions_state"), "live_sessions", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_live_sessions_state"), table_name="live_sessions")
    op.drop_index(op.f("ix_live_sessions_commune_id"), table_name="live_sessions")
    op.drop_table("live_sessions")
