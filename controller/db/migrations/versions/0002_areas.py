"""The area tree (province → district → commune → village) and the links of existing communes and villages.

Every existing commune becomes a commune area without a parent (a commune that runs loaxa on its own) and
every existing village a village area under it; both keep their id as their code. An admin can then put the
commune under its district (`loaxa area move`). A village id equal to a commune id would clash as a code:
the upgrade then stops in its transaction and changes nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=64), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "level IN ('province', 'district', 'commune', 'village')", name=op.f("ck_areas_level")
        ),
        sa.ForeignKeyConstraint(["parent_code"], ["areas.code"], name=op.f("fk_areas_parent_code_areas")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_areas")),
    )
    op.create_index(op.f("ix_areas_parent_code"), "areas", ["parent_code"], unique=False)
    op.execute(
        "INSERT INTO areas (code, name, level, parent_code, retired, created_at) "
        "SELECT id, name, 'commune', NULL, false, created_at FROM communes"
    )
    op.execute(
        "INSERT INTO areas (code, name, level, parent_code, retired, created_at) "
        "SELECT id, name, 'village', commune_id, false, created_at FROM villages"
    )
    for table in ("communes", "villages"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("area_code", sa.String(length=64), nullable=True))
        op.execute(f"UPDATE {table} SET area_code = id")  # noqa: S608 - fixed table names
        with op.batch_alter_table(table) as batch:
            batch.alter_column("area_code", existing_type=sa.String(length=64), nullable=False)
            batch.create_unique_constraint(batch.f(f"uq_{table}_area_code"), ["area_code"])
            batch.create_foreign_key(batch.f(f"fk_{table}_area_code_areas"), "areas", ["area_code"], ["code"])


def downgrade() -> None:
    for table in ("villages", "communes"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(batch.f(f"fk_{table}_area_code_areas"), type_="foreignkey")
            batch.drop_constraint(batch.f(f"uq_{table}_area_code"), type_="unique")
            batch.drop_column("area_code")
    op.drop_index(op.f("ix_areas_parent_code"), table_name="areas")
    op.drop_table("areas")
