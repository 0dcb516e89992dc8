"""Scoped staff and bulletins from above (DESIGN §11): users' areas, bulletins' sending areas, the communes'
inboxes and one-time password reset codes.

Every user of a commune gets that commune's area; a user without a commune keeps none (the whole
installation). Existing bulletins keep no sending area: they were sent within their commune, as before.

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("area_code", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_users_area_code"), ["area_code"], unique=False)
        batch.create_foreign_key(batch.f("fk_users_area_code_areas"), "areas", ["area_code"], ["code"])
    op.execute(
        "UPDATE users SET area_code = (SELECT communes.area_code FROM communes "
        "WHERE communes.id = users.commune_id) WHERE commune_id IS NOT NULL"
    )
    with op.batch_alter_table("bulletins") as batch:
        batch.add_column(sa.Column("sender_area", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_bulletins_sender_area"), ["sender_area"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_bulletins_sender_area_areas"), "areas", ["sender_area"], ["code"]
        )
    op.create_table(
        "inbox_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("clash", sa.Boolean(), nullable=False),
        sa.Column("play_order", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('waiting', 'scheduled', 'declined')", name=op.f("ck_inbox_entries_state")
        ),
        sa.CheckConstraint(
            "play_order IN ('above_first', 'commune_first')", name=op.f("ck_inbox_entries_play_order")
        ),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_inbox_entries_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["communes.id"], name=op.f("fk_inbox_entries_commune_id_communes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_entries")),
        sa.UniqueConstraint(
            "bulletin_id", "commune_id", name=op.f("uq_inbox_entries_bulletin_id_commune_id")
        ),
    )
    op.create_index(op.f("ix_inbox_entries_commune_id"), "inbox_entries", ["commune_id"], unique=False)
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_password_resets_code_sha256")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index(op.f("ix_inbox_entries_commune_id"), table_name="inbox_entries")
    op.drop_table("inbox_entries")
    with op.batch_alter_table("bulletins") as batch:
        batch.drop_constraint(batch.f("fk_bulletins_sender_area_areas"), type_="foreignkey")
        batch.drop_index(batch.f("ix_bulletins_sender_area"))
        batch.drop_column("sender_area")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(batch.f("fk_users_area_code_areas"), type_="foreignkey")
        batch.drop_index(batch.f("ix_users_area_code"))
        batch.drop_column("area_code")
