"""e-mails in two parts, the sign-in link, and the catalog's names in other languages (W2, W1)

`catalog_names`: what a catalog calls its metrics, product lines, plans and features in the
languages beside English (its file's `translations:`).

`emails.html`: the HTML part sent beside the plain text (multipart/alternative);
none on the messages queued before. `sign_in_link`: a business asks for a link to
its billing page by e-mail, at its billing address: `accounts.billing_email`, that
address in lower case (indexed), filled here from the billing details.

Revision ID: a9d4e2c7b513
Revises: f3b8d2a6c719
Create Date: 2026-12-07 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9d4e2c7b513"
down_revision: str | None = "f3b8d2a6c719"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("activation_link", "payment_failed", "payment_action", "usage_alert")
AFTER = (*BEFORE, "sign_in_link")


def _kinds(batch: object, kinds: tuple[str, ...]) -> None:
    name = op.f("ck_emails_kind")
    batch.drop_constraint(name, type_="check")  # type: ignore[attr-defined]
    batch.create_check_constraint(  # type: ignore[attr-defined]
        name, f"kind IN ({', '.join(repr(k) for k in kinds)})"
    )


def upgrade() -> None:
    op.create_table(
        "catalog_names",
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("catalog", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("lang", "kind", "code", name=op.f("pk_catalog_names")),
        sa.CheckConstraint(
            "kind IN ('metrics', 'product_lines', 'plans', 'features')",
            name=op.f("ck_catalog_names_kind"),
        ),
    )
    op.create_index("ix_catalog_names_catalog", "catalog_names", ["catalog"])
    with op.batch_alter_table("emails") as batch:
        batch.add_column(sa.Column("html", sa.Text, nullable=True))
        _kinds(batch, AFTER)
    op.create_index("ix_emails_to", "emails", ["to_address", "created_at"])
    op.add_column("accounts", sa.Column("billing_email", sa.String(320), nullable=True))
    op.create_index("ix_accounts_billing_email", "accounts", ["billing_email"])
    accounts = sa.table(
        "accounts", sa.column("id", sa.String), sa.column("billing_details", sa.JSON),
        sa.column("billing_email", sa.String),
    )  # fmt: skip
    bind = op.get_bind()
    for account_id, details in bind.execute(
        sa.select(accounts.c.id, accounts.c.billing_details).where(
            accounts.c.billing_details.is_not(None)
        )
    ).all():
        email = (details or {}).get("email")
        if email:
            bind.execute(
                accounts.update()
                .where(accounts.c.id == account_id)
                .values(billing_email=str(email).lower())
            )


def downgrade() -> None:
    op.drop_index("ix_catalog_names_catalog", "catalog_names")
    op.drop_table("catalog_names")
    op.drop_index("ix_emails_to", "emails")
    op.drop_index("ix_accounts_billing_email", "accounts")
    # not a batch: SQLite would copy `accounts`, and the triggers that name it break
    op.execute("ALTER TABLE accounts DROP COLUMN billing_email")
    op.execute("DELETE FROM emails WHERE kind = 'sign_in_link'")
    with op.batch_alter_table("emails") as batch:
        batch.drop_column("html")
        _kinds(batch, BEFORE)
