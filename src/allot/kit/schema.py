"""The one MetaData every domain's tables belong to, with stable constraint names."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def one_of(column: str, values: type[StrEnum], *, nullable: bool = False) -> sa.CheckConstraint:
    """`CHECK (column IN (…))` from the enum the code uses, so the two cannot drift apart.

    The database then refuses a state or kind the code does not name, whoever writes
    the row. Named after the column: `ck_<table>_<column>`.
    """
    listed = ", ".join(f"'{value}'" for value in values)
    condition = f"{column} IN ({listed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return sa.CheckConstraint(condition, name=column)
