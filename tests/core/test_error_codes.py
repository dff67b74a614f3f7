"""The error-code registry against the source, and docs/errors.md against the registry.

The source is read, not run: every call of a `DomainError` family (or of a
subclass defined in `src/allot`) whose code is a string literal must be
registered under that family; the few calls whose code is built at run time
must be sites the registry names; and `allot.http`'s own codes must be
registered with their status. No database.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from allot.core import errors
from allot.core.error_codes import (
    CODES,
    CODES_BY_NAME,
    DYNAMIC_SITES,
    FAMILIES,
    FAMILY,
    markdown,
)

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PACKAGE = SRC / "allot"
DOC = ROOT / "docs" / "errors.md"
REGENERATE = "uv run --no-sync python -m allot.core.error_codes > docs/errors.md"

CORE_FAMILIES = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.DomainError)
}

# A code raised with two families, where the second is no caller's answer. The
# caller's refusal of a top-up on a plan without a top-up price is Refused (409,
# `check_top_up`); these two raise the same code as InvalidInput for the
# engine's own arguments (a top-up count on a rule that sells none), which no
# request reaches. Any other site or family fails the test.
SECOND_FAMILY: dict[tuple[str, str], set[str]] = {
    ("top_up_not_offered", "InvalidInput"): {
        "allot/core/allocation.py: allocate",
        "allot/core/backlog.py: top_up_charge",
    },
}


@dataclass
class Scan:
    raised: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    dynamic: set[str] = field(default_factory=set)
    fixed: dict[str, tuple[str, str]] = field(default_factory=dict)  # class → (code, family)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (path.relative_to(SRC).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def _families(modules: list[tuple[str, ast.Module]]) -> tuple[dict[str, str], dict[str, str]]:
    """Every DomainError family or subclass → its core family; and class → its fixed code."""
    family = {name: name for name in CORE_FAMILIES}
    classes = [n for _, tree in modules for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for cls in classes:
            bases = [family[b] for b in map(_name, cls.bases) if b in family]
            if bases and cls.name not in family:
                family[cls.name] = bases[0]
                grew = True
    fixed = {}
    for cls in classes:
        if cls.name not in family:
            continue
        for node in ast.walk(cls):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "__init__"
                and isinstance(node.func.value, ast.Call)
                and _name(node.func.value.func) == "super"
                and node.args
                and (code := _literal(node.args[0])) is not None
            ):
                fixed[cls.name] = code
    return family, fixed


class _Calls(ast.NodeVisitor):
    """Each call with the qualified name of the function it is in."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.calls: list[tuple[str, ast.Call]] = []

    def _scope(self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _scope

    def visit_Call(self, node: ast.Call) -> None:
        self.calls.append((".".join(self.stack) or "<module>", node))
        self.generic_visit(node)


def scan() -> Scan:
    modules = _modules()
    family, fixed = _families(modules)
    found = Scan(fixed={cls: (code, family[cls]) for cls, code in fixed.items()})
    for path, tree in modules:
        visitor = _Calls()
        visitor.visit(tree)
        for where, call in visitor.calls:
            site = f"{path}: {where}"
            cls = _name(call.func)
            if cls == "PydanticCustomError":
                found.dynamic.add(site)  # a domain rule's code carried onto the wire
            if cls not in family:
                continue
            if cls in fixed:
                found.raised[(fixed[cls], family[cls])].add(site)
            elif call.args and (code := _literal(call.args[0])) is not None:
                found.raised[(code, family[cls])].add(site)
            else:
                found.dynamic.add(site)
    return found


@pytest.fixture(scope="module")
def source() -> Scan:
    return scan()


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    found = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name
    ]
    assert len(found) == 1, name
    return found[0]


def http_codes() -> dict[str, int | None]:
    """The codes allot.http answers itself → their status (None: decided at run time)."""
    tree = ast.parse((PACKAGE / "http.py").read_text(encoding="utf-8"))
    out: dict[str, int | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "problem" and len(node.args) >= 2:
            status, code = node.args[0], _literal(node.args[1])
            if isinstance(status, ast.Constant) and isinstance(status.value, int) and code:
                out[code] = status.value
        elif isinstance(node, ast.Dict) and all(_literal(v) for v in node.values):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, int):
                    out[str(_literal(value))] = key.value
    # The two handlers choose their code at run time: a domain rule's code or
    # `invalid_request`; the status's code or `http_error`.
    for node in ast.walk(_function(tree, "_invalid")):
        if isinstance(node, ast.IfExp) and (code := _literal(node.orelse)):
            out.setdefault(code, None)
    for node in ast.walk(_function(tree, "_http")):
        if not (isinstance(node, ast.Call) and _name(node.func) == "get" and len(node.args) == 2):
            continue
        if code := _literal(node.args[1]):
            out.setdefault(code, None)
    return out


def test_codes_are_unique_snake_case_and_say_something() -> None:
    names = [c.code for c in CODES]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert len(CODES_BY_NAME) == len(CODES)
    for c in CODES:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", c.code), c.code
        assert c.family in FAMILY, c
        assert c.meaning.strip() == c.meaning, c.code
        assert c.meaning.endswith("."), c.code
        assert "|" not in c.meaning, c.code  # a table cell
        assert "\n" not in c.meaning, c.code
        assert c.rule is None or re.fullmatch(r"[ACKURBVPWS]\d+(, [ACKURBVPWS]\d+)*", c.rule)


def test_the_families_have_the_status_allot_http_gives_them() -> None:
    from allot.http import STATUS

    assert {kind.__name__: status for kind, status in STATUS} == {
        f.name: f.status for f in FAMILIES if isinstance(f.name, str)
    }
    assert {f.name for f in FAMILIES if isinstance(f.name, str)} == CORE_FAMILIES - {"DomainError"}
    assert all(f.name == f.status for f in FAMILIES if isinstance(f.name, int))


def test_every_code_raised_in_src_is_registered_under_its_family(source: Scan) -> None:
    missing = sorted({code for code, _ in source.raised} - set(CODES_BY_NAME))
    assert not missing, f"register these in allot/core/error_codes.py: {missing}"
    wrong = {}
    for (code, family), sites in source.raised.items():
        if CODES_BY_NAME[code].family != family and SECOND_FAMILY.get((code, family)) != sites:
            wrong[code] = (family, sorted(sites), "registered as", CODES_BY_NAME[code].family)
    assert not wrong, f"raised with another family than registered: {wrong}"


def test_a_code_is_raised_with_one_family_unless_explained(source: Scan) -> None:
    families: dict[str, set[str]] = defaultdict(set)
    for code, family in source.raised:
        families[code].add(family)
    twice = {code for code, found in families.items() if len(found) > 1}
    assert twice == {code for code, _ in SECOND_FAMILY}


def test_every_code_built_at_run_time_comes_from_a_known_site(source: Scan) -> None:
    assert source.dynamic == set(DYNAMIC_SITES), "a site builds a code: name it in DYNAMIC_SITES"
    for c in CODES:
        assert c.built_by is None or c.built_by in DYNAMIC_SITES, c


def test_the_counts_the_reviews_gate_checks_are_registered() -> None:
    """`_check_count(value, "field")` raises `invalid_{field}`: one code per field it is given."""
    site = "allot/core/backlog.py: _check_count"
    tree = ast.parse((PACKAGE / "core" / "backlog.py").read_text(encoding="utf-8"))
    fields = {
        _literal(n.args[1])
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and _name(n.func) == "_check_count" and len(n.args) == 2
    }
    assert None not in fields
    assert fields
    assert {f"invalid_{f}" for f in fields} == {c.code for c in CODES if c.built_by == site}


def test_the_codes_of_allot_http_are_registered_with_their_status() -> None:
    found = http_codes()
    edge = {c.code: c for c in CODES if isinstance(c.family, int)}
    assert set(found) == set(edge)
    for code, status in found.items():
        assert status is None or edge[code].status == status, code


def test_every_registered_code_is_raised_somewhere(source: Scan) -> None:
    raised = {code for code, _ in source.raised} | set(http_codes())
    built = {c.code for c in CODES if c.built_by is not None}
    never = sorted(set(CODES_BY_NAME) - raised - built)
    assert not never, f"registered but raised nowhere: {never}"


def test_docs_errors_md_is_generated_from_the_registry() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        f"docs/errors.md is out of date; regenerate it: {REGENERATE}"
    )


def test_every_code_has_an_anchor_in_the_doc() -> None:
    text = markdown()
    for c in CODES:
        assert text.count(f'<a id="{c.code}"></a>') == 1, c.code


def test_the_readme_links_the_doc() -> None:
    assert "(docs/errors.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
