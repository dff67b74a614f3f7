"""Each room writes only its own tables (docs/architecture.md).

A domain's tables are the ones its `models.py` declares. Every INSERT, UPDATE or
DELETE in the code — built with SQLAlchemy (`sa.insert(t)`, `t.update()`) or
written as SQL text — must name a table of the package it sits in. A write that
crosses rooms goes through the owner's repository instead (the invoice's
outbox rows through `allot.webhook.repository`, the subscription's billing
calendar through `allot.subscription.repository`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "allot"
_TABLE = re.compile(r'^(\w+) = sa\.Table\(\s*"(\w+)"', re.MULTILINE)
_SQL_WRITE = re.compile(r"\b(?:INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", re.IGNORECASE)


def _room(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _owners() -> tuple[dict[str, str], dict[str, str]]:
    """(python name → room, SQL table name → room) for every table of the code."""
    by_name: dict[str, str] = {}
    by_table: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for match in _TABLE.finditer(path.read_text()):
            by_name[match.group(1)] = by_table[match.group(2)] = _room(path)
    return by_name, by_table


def _writes(path: Path, tables: dict[str, str]) -> set[str]:
    """The Python names of the tables a module writes with SQLAlchemy."""
    written = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in ("insert", "update", "delete"):
            continue
        target = node.func.value
        if isinstance(target, ast.Name) and target.id == "sa" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Name):
                written.add(first.id)
        elif isinstance(target, ast.Name) and target.id in tables:
            written.add(target.id)
    return written


def test_every_write_names_a_table_of_its_own_room() -> None:
    by_name, by_table = _owners()
    assert len(by_table) > 30  # the scan sees the schema
    crossing = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        room = _room(path)
        for name in _writes(path, by_name):
            if by_name.get(name, room) != room:
                crossing.append(f"{path.relative_to(SRC)} writes {name} ({by_name[name]})")
        for table in _SQL_WRITE.findall(path.read_text()):
            if by_table.get(table, room) != room:
                crossing.append(f"{path.relative_to(SRC)} writes {table} ({by_table[table]})")
    assert crossing == []


def test_the_scan_sees_a_crossing_write(tmp_path: Path) -> None:
    """The rule can fail: a module that updates another room's table is named."""
    by_name, _ = _owners()
    sample = tmp_path / "sample.py"
    sample.write_text("import sqlalchemy as sa\nsa.update(accounts).values(name='x')\n")
    assert _writes(sample, by_name) == {"accounts"}
    assert by_name["accounts"] == "account"
