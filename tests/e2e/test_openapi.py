"""schemathesis against /openapi.json, for each role: 0 server errors, 0 schema violations.

Hypothesis generates requests from the OpenAPI document for every operation —
valid and invalid bodies, odd path parameters and query strings — and every
answer must be a documented status with a documented body and content type.

Dates at the calendar's edge too (U8): hooks put the first and last instants,
dates and months of datetime and of the engine's years (2000-2099) into every
date, date-time and `YYYY-MM` input the document declares. The app reads the
database's clock, so a generated `PUT /v1/clock` moves every later request to
the edge as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.hooks import HookContext

from allot.app import create_app
from allot.kit.simclock import StoredClock
from tests.e2e.conftest import Api

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


MONTH = r"^\d{4}-\d{2}$"
EDGES = {
    "date-time": [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-12:00",
        "1999-12-31T23:59:59.999999Z",
        "2000-01-01T00:00:00Z",
        "2000-01-01T00:00:00-11:00",
        "2099-12-31T23:59:59Z",
        "2099-12-31T23:59:59+14:00",
        "2100-01-01T00:00:00Z",
    ],
    "date": ["0001-01-01", "9999-12-31", "1999-12-31", "2000-01-01", "2099-12-31", "2100-01-01"],
    "month": ["0001-01", "9999-12", "1999-12", "2000-01", "2099-12", "2100-01", "0000-00"],
}

EVERY_EDGE = {edge for kind in EDGES.values() for edge in kind}


def _kinds(node: Any) -> Iterator[str]:
    """The date kinds a JSON schema (or any branch of it) declares."""
    if isinstance(node, dict):
        if node.get("format") in ("date", "date-time"):
            yield node["format"]
        if node.get("pattern") == MONTH:
            yield "month"
        for branch in node.get("anyOf", ()):
            yield from _kinds(branch)


Operation = tuple[str, str]  # (method, path)


def date_inputs(document: dict[str, Any]) -> tuple[dict[str, str], dict[Operation, dict[str, str]]]:
    """Body properties by name, and each operation's query parameters: their date kind."""
    properties = {
        name: kind
        for model in document["components"]["schemas"].values()
        for name, prop in model.get("properties", {}).items()
        for kind in _kinds(prop)
    }
    queries: dict[Operation, dict[str, str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for param in operation.get("parameters", ()):
                for kind in _kinds(param.get("schema")) if param["in"] == "query" else ():
                    queries.setdefault((method.upper(), path), {})[param["name"]] = kind
    return properties, queries


def at_the_edges(schema: Any) -> None:
    """Hooks on `schema` that swap generated dates for the calendar's edges, often."""
    properties, queries = date_inputs(schema.raw_schema)
    assert {"occurred_at", "placed_at", "started_on", "starts_at", "ends_at", "now"} <= set(
        properties
    )
    assert sum("month" in params.values() for params in queries.values()) >= 5

    @st.composite
    def edged(draw: st.DrawFn, value: Any) -> Any:
        if isinstance(value, list):
            return [draw(edged(item)) for item in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for name, item in value.items():
            kind = properties.get(name)
            swap = item is None or isinstance(item, str)
            if kind is not None and swap and draw(st.integers(0, 3)):
                out[name] = draw(st.sampled_from(EDGES[kind]))
            else:
                out[name] = draw(edged(item))
        return out

    def flatmap_body(_context: HookContext, body: Any) -> st.SearchStrategy[Any]:
        return edged(body)

    def flatmap_query(context: HookContext, query: Any) -> st.SearchStrategy[Any]:
        operation = context.operation
        if operation is None:
            return st.just(query)
        mine = queries.get((operation.method.upper(), operation.path), {})
        if not mine:
            return st.just(query)

        @st.composite
        def swapped(draw: st.DrawFn) -> dict[str, Any]:
            out = dict(query or {})
            for name, kind in mine.items():
                if draw(st.integers(0, 3)):
                    out[name] = draw(st.sampled_from(EDGES[kind]))
            return out

        return swapped()

    schema.hook(flatmap_body)
    schema.hook(flatmap_query)


@pytest.mark.parametrize("role", ["operator", "cafe", "partner"])
def test_every_operation_answers_within_its_contract(api: Api, role: str) -> None:
    """Also U8: dates at the calendar's edge in every date input, 0 server errors."""
    app = create_app(api.db, StoredClock(api.db, system=api.clock), rate_limit="off")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    at_the_edges(schema)
    headers = api.as_(role)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) >= 14
    edges: set[str] = set()

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def answers_within_contract(case: Any) -> None:
            sent = json.dumps([case.body, case.query], default=str)
            edges.update(edge for edge in EVERY_EDGE if f'"{edge}"' in sent)
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers_within_contract()
    # the hooks did reach the API: most edges were sent (Hypothesis picks which)
    assert len(edges) >= len(EVERY_EDGE) // 2, sorted(edges)
