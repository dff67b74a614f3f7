"""The runtime carries no dev tools, and declares nothing it does not import.

`make run` installs the locked runtime only (`uv sync --no-dev`); `make test` adds the
dev group. These tests read `uv.lock`, the resolution both commands install from, so a
test package that slips into the runtime's dependency tree fails here, not in production.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEV_TOOLS = {"pytest", "hypothesis", "mypy", "ruff", "import-linter", "schemathesis", "aiosmtpd"}
# The import name of each runtime distribution whose name differs from it.
IMPORT_NAMES = {"pyyaml": "yaml", "email-validator": "email_validator", "argon2-cffi": "argon2"}
# Declared for what they bring, not for an import of their own.
NOT_IMPORTED = {
    "psycopg": "the PostgreSQL driver SQLAlchemy loads from the URL",
    "python-multipart": "the form parser FastAPI loads for the pages' Form fields",
}


def _lock() -> dict[str, dict[str, Any]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {package["name"]: package for package in lock["package"]}


def _runtime_closure(packages: dict[str, dict[str, Any]]) -> set[str]:
    seen: set[str] = set()
    todo = [dep["name"] for dep in packages["allot"]["dependencies"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        package = packages[name]
        todo += [dep["name"] for dep in package.get("dependencies", [])]
        for dep in packages["allot"]["dependencies"]:
            if dep["name"] == name:
                for extra in dep.get("extra", []):
                    todo += [d["name"] for d in package["optional-dependencies"][extra]]
    return seen


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"]
    return [re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0].lower() for spec in specs]


def _imported_roots() -> set[str]:
    roots: set[str] = set()
    for path in (ROOT / "src" / "allot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots.add(node.module.split(".")[0])
    return roots


def test_the_runtime_installs_no_test_lint_or_type_checking_package() -> None:
    runtime = _runtime_closure(_lock())
    assert runtime & DEV_TOOLS == set()
    assert "fastapi" in runtime  # the closure is real: it reaches what the API needs


def test_make_run_syncs_without_the_dev_group() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run_sync = re.search(r"^\.venv/\.synced-run:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert run_sync is not None
    assert "--no-dev" in run_sync.group(1)
    assert re.search(r"^run: env$", makefile, re.MULTILINE)


def test_every_runtime_dependency_is_imported_by_allot() -> None:
    imported = _imported_roots()
    unused = [
        name
        for name in _declared()
        if IMPORT_NAMES.get(name, name.replace("-", "_")) not in imported
        and name not in NOT_IMPORTED
    ]
    assert unused == []
