"""The client covers the API: every operation of the server's OpenAPI document is made by
exactly one method of `allot_client.Client`, which can pass all of its parameters.

Each method is called once through a transport that records the request and answers
nothing, so the map from methods to operations is read off the wire: a method that
sends the wrong path cannot claim an operation it does not make.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from allot_client import Client

Operation = tuple[str, str]  # ("POST", "/v1/accounts/{account_id}/consume")


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    params: dict[str, str]
    headers: httpx.Headers
    body: Any


class _Recorded(Exception):
    def __init__(self, sent: Sent) -> None:
        self.sent = sent


def _record(request: httpx.Request) -> httpx.Response:
    path = request.url.raw_path.decode().partition("?")[0]
    body = json.loads(request.content) if request.content else None
    raise _Recorded(Sent(request.method, path, dict(request.url.params), request.headers, body))


def sample(annotation: Any) -> Any:
    """A value of the type a required parameter declares."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return sample(members[0])
    if origin is not None and isinstance(origin, type):
        if issubclass(origin, Mapping):
            return {}
        if issubclass(origin, Sequence):
            return []
    samples: dict[Any, Any] = {
        str: "s1",
        int: 7,
        bool: False,
        Decimal: Decimal("1"),
        datetime: datetime(2026, 3, 1, 9, tzinfo=UTC),
        date: date(2026, 3, 1),
    }
    if annotation in samples:
        return samples[annotation]
    raise AssertionError(f"no sample for {annotation!r}: add one to tests/client/test_coverage.py")


def methods() -> dict[str, Callable[..., Any]]:
    """Client's public methods that talk to the server."""
    return {
        name: member
        for name, member in inspect.getmembers(Client, inspect.isfunction)
        if not name.startswith("_") and name != "close"
    }


def send(name: str) -> Sent:
    """What `Client.<name>` sends when called with its required arguments and a key."""
    client = Client("http://allot.test", "key", transport=httpx.MockTransport(_record))
    method = getattr(client, name)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in inspect.signature(method, eval_str=True).parameters.values():
        if parameter.name == "idempotency_key":
            kwargs["idempotency_key"] = "key-1"
        elif parameter.default is not inspect.Parameter.empty:
            continue
        elif parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = sample(parameter.annotation)
        else:
            args.append(sample(parameter.annotation))
    with pytest.raises(_Recorded) as recorded:
        method(*args, **kwargs)
    return recorded.value.sent


def template_of(sent: Sent, operations: set[Operation]) -> Operation | None:
    matches = [
        (method, path)
        for method, path in operations
        if method == sent.method
        and re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)), sent.path)
    ]
    assert len(matches) <= 1, matches
    return matches[0] if matches else None


def operations_of(document: dict[str, Any]) -> dict[Operation, dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def made_by(document: dict[str, Any]) -> dict[str, Operation | None]:
    operations = set(operations_of(document))
    return {name: template_of(send(name), operations) for name in methods()}


def test_every_operation_is_made_by_exactly_one_method(document: dict[str, Any]) -> None:
    operations = operations_of(document)
    made = made_by(document)
    by_operation: dict[Operation, list[str]] = {op: [] for op in operations}
    for name, op in made.items():
        if op is not None and name not in Client.shortcuts:
            by_operation[op].append(name)

    missing = [f"{m} {p}" for (m, p), names in by_operation.items() if not names]
    twice = {f"{m} {p}": names for (m, p), names in by_operation.items() if len(names) > 1}
    astray = sorted(name for name, op in made.items() if op is None)
    assert missing == [], f"operations with no method on allot_client.Client: {missing}"
    assert twice == {}, f"operations made by two methods (list one in Client.shortcuts): {twice}"
    assert astray == [], f"methods whose request is no operation of the API: {astray}"
    assert all(made[name] is not None for name in Client.shortcuts)
    assert len(operations) >= 63


def test_a_method_takes_every_path_and_query_parameter_and_a_key_where_the_api_does(
    document: dict[str, Any],
) -> None:
    operations = operations_of(document)
    wrong = []
    for name, op in made_by(document).items():
        assert op is not None
        declared = {p["name"]: p["in"] for p in operations[op].get("parameters", [])}
        wanted = {n for n, where in declared.items() if where in ("path", "query")}
        if "Idempotency-Key" in declared:
            wanted.add("idempotency_key")
        taken = set(inspect.signature(getattr(Client, name)).parameters) - {"self"}
        if name in Client.shortcuts:
            taken |= wanted  # a shortcut passes what it needs itself
        if not wanted <= taken:
            wrong.append(f"{name} lacks {sorted(wanted - taken)}")
        if "idempotency_key" in taken and "Idempotency-Key" not in declared:
            wrong.append(f"{name} takes a key that {op[0]} {op[1]} does not declare")
    assert wrong == []


def test_the_key_goes_in_the_header_and_none_is_left_out_of_the_query() -> None:
    sent = send("consume")
    assert (sent.method, sent.path) == ("POST", "/v1/accounts/s1/consume")
    assert sent.headers["idempotency-key"] == "key-1"
    assert sent.headers["authorization"] == "Bearer key"
    assert send("ledger").params == {"limit": "100"}


def sent_by(call: Callable[[Client], object], base_url: str = "http://allot.test") -> Sent:
    client = Client(base_url, "key", transport=httpx.MockTransport(_record))
    with pytest.raises(_Recorded) as recorded:
        call(client)
    return recorded.value.sent


def test_path_parameters_are_quoted_under_the_base_urls_path() -> None:
    sent = sent_by(lambda c: c.account("a/b c"), "http://allot.test/base/")
    assert sent.path == "/base/v1/accounts/a%2Fb%20c"


def test_a_body_carries_exact_amounts_as_text_instants_in_iso_and_leaves_out_none() -> None:
    note = sent_by(lambda c: c.credit_note(4, "outage", lines={0: Decimal("50.00"), 2: "1.5"}))
    assert note.body == {
        "reason": "outage",
        "lines": [{"position": 0, "amount": "50.00"}, {"position": 2, "amount": "1.5"}],
    }
    at = datetime(2026, 1, 31, 23, tzinfo=UTC)
    consumed = sent_by(lambda c: c.consume("a", "orders", idempotency_key="k", occurred_at=at))
    assert consumed.body == {
        "metric": "orders",
        "quantity": 1,
        "occurred_at": "2026-01-31T23:00:00Z",
    }
    plain = sent_by(lambda c: c.consume("a", "orders", idempotency_key="k"))
    assert plain.body == {"metric": "orders", "quantity": 1}
    subscribed = sent_by(lambda c: c.subscribe("a", "monthly", started_on=date(2026, 3, 1)))
    assert subscribed.body == {"plan": "monthly", "quantity": 1, "started_on": "2026-03-01"}
