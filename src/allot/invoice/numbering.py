"""Number series (B5): sequential without gaps, one path for every document on both databases.

A series is a row of `number_series` (`INV-2026`, `CN-2026`: one per kind of
document and year). A number is taken by one statement, `TAKE`: it adds one to
the row and returns the new value written as the document's number
(`INV-2026-000001`, at least six digits). The UPDATE locks the row until the
transaction ends, so every other document of the series waits for it, and a
rollback gives the number back: numbers run 1..N with no gap and no duplicate,
whichever process takes them. The first number of a series opens its row at 0
(`open_series`) and takes again.

Invoices embed the same statement in the one that writes them (with a
condition: only if the billing key has no invoice yet, B6); credit notes run it
alone (`take`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from allot.invoice.models import number_series

INVOICES = "INV"
CREDIT_NOTES = "CN"


def series(prefix: str, year: int) -> str:
    """`INV` and 2026 → `INV-2026`: one gap-free series per kind of document and year."""
    return f"{prefix}-{year:04d}"


class document_number(sa.sql.functions.FunctionElement[str]):
    """The number of value `last_value` in series `series` as text, in SQL:
    `INV-2026` and 1 → `INV-2026-000001`, 1,000,000 → `INV-2026-1000000`."""

    type = sa.String()
    name = "document_number"
    inherit_cache = True


@compiles(document_number, "sqlite")
def _number_sqlite(element: document_number, compiler: SQLCompiler, **kw: Any) -> str:
    name, value = (compiler.process(c, **kw) for c in element.clauses)
    return f"printf('%s-%06d', {name}, {value})"


@compiles(document_number, "postgresql")
def _number_pg(element: document_number, compiler: SQLCompiler, **kw: Any) -> str:
    name, value = (compiler.process(c, **kw) for c in element.clauses)
    digits = f"CAST({value} AS TEXT)"
    return f"concat({name}, '-', lpad({digits}, greatest(6, length({digits})), '0'))"


def take_statement(*conditions: sa.ColumnElement[bool]) -> sa.Update:
    """The next number of the series `:series_name` (if `conditions` hold), as `number`."""
    return (
        sa.update(number_series)
        .where(number_series.c.series == sa.bindparam("series_name", type_=sa.String), *conditions)
        .values(last_value=number_series.c.last_value + 1)
        .returning(
            document_number(number_series.c.series, number_series.c.last_value).label("number")
        )
    )


TAKE = take_statement()

_OPEN_SERIES = {
    name: insert(number_series)
    .values(series=sa.bindparam("series"), last_value=0)
    .on_conflict_do_nothing(index_elements=[number_series.c.series])
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def open_series(conn: Connection, name: str) -> None:
    """Open the series `name` at 0 if it has no row yet (its first document of the year)."""
    conn.execute(_OPEN_SERIES[conn.dialect.name], {"series": name})


def take(conn: Connection, name: str) -> str:
    """The next number of the series `name`, in the caller's transaction (B5)."""
    params = {"series_name": name}
    number = conn.execute(TAKE, params).scalar_one_or_none()
    if number is None:
        open_series(conn, name)
        number = conn.execute(TAKE, params).scalar_one()
    return str(number)


def last_numbers(conn: Connection) -> dict[str, int]:
    """The last value taken in every series."""
    return {r.series: r.last_value for r in conn.execute(sa.select(number_series))}
