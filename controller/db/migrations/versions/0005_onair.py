"""What aired (issue 13): plays say their source (file, relay, live), stream URL and live session; the gaps
of relay and live plays and the dead air devices report get their own tables.

Existing plays are files. Revision ID: 0005
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plays") as batch:
        batch.add_column(sa.Column("source", sa.String(length=8), server_default="file", nullable=False))
        batch.add_column(sa.Column("url", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("session", sa.String(length=64), nullable=True))
        batch.create_check_constraint("source", "source IN ('file', 'relay', 'live')")
    op.create_table(
        "play_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("play_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=True),
        sa.Column("session", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_play_gaps_device_id_devices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["play_id"], ["plays.id"], name=op.f("fk_play_gaps_play_id_plays"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_play_gaps")),
        sa.UniqueConstraint("device_id", "seq", name=op.f("uq_play_gaps_device_id_seq")),
    )
    op.create_index(op.f("ix_play_gaps_play_id"), "play_gaps", ["play_id"], unique=False)
    op.create_index(
        op.f("ix_play_gaps_device_id_started_at"), "play_gaps", ["device_id", "started_at"], unique=False
    )
    op.create_table(
        "dead_air",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=True),
        sa.Column("session", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ongoing", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('silent', 'broken')", name=op.f("ck_dead_air_kind")),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_dead_air_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_air")),
        sa.UniqueConstraint("device_id", "started_at", name=op.f("uq_dead_air_device_id_started_at")),
    )


def downgrade() -> None:
    op.drop_table("dead_air")
    op.drop_index(op.f("ix_play_gaps_device_id_started_at"), table_name="play_gaps")
    op.drop_index(op.f("ix_play_gaps_play_id"), table_name="play_gaps")
    op.drop_table("play_gaps")
    with op.batch_alter_table("plays") as batch:
        batch.drop_constraint("source", type_="check")
        batch.drop_column("session")
        batch.drop_column("url")
        batch.drop_column("source")
