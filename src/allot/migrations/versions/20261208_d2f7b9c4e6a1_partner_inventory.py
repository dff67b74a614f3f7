"""a partner's inventory (A3): the resources it bought to give out in its codes

`partner_inventory`: monthly units bought per resource (never below zero);
`partner_inventory_moves`: every top-up or give-back, append-only.

Revision ID: d2f7b9c4e6a1
Revises: c8e1a5d3f7b2
Create Date: 2026-12-08 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import allot.kit.types

revision: str = "d2f7b9c4e6a1"
down_revision: str | None = "c8e1a5d3f7b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = allot.kit.types.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "partner_inventory",
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("bought", sa.BigInteger, nullable=False),
        sa.Column("updated_at", Instant, nullable=False),
        sa.CheckConstraint("bought >= 0", name=op.f("ck_partner_inventory_bought_not_negative")),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_inventory_partner_id_partners")
        ),
        sa.ForeignKeyConstraint(
            ["metric"], ["metrics.code"], name=op.f("fk_partner_inventory_metric_metrics")
        ),
        sa.PrimaryKeyConstraint("partner_id", "metric", name=op.f("pk_partner_inventory")),
    )
    op.create_table(
        "partner_inventory_moves",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("at", Instant, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_inventory_moves_partner_id_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["metric"], ["metrics.code"], name=op.f("fk_partner_inventory_moves_metric_metrics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_inventory_moves")),
    )
    op.create_index(
        "ix_partner_inventory_moves_partner", "partner_inventory_moves", ["partner_id", "id"]
    )


def downgrade() -> None:
    op.drop_table("partner_inventory_moves")
    op.drop_table("partner_inventory")
