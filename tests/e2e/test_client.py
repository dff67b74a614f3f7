"""The typed Python client against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from allot.app import create_app
from allot_client import AllotError, Client
from tests.e2e.conftest import Api
from tests.e2e.live import serve
from tests.scenarios.world import PRESETS


@pytest.fixture
def operator(api: Api) -> Iterator[Client]:
    with serve(create_app(api.db, api.clock)) as url, Client(url, api.keys["operator"]) as c:
        yield c


def test_the_client_covers_the_api(operator: Client) -> None:
    assert operator.health().status == "ok"
    assert any(p.definition["code"] == "monthly" for p in operator.catalog())
    report = operator.load_catalog((PRESETS / "stamp-card.yaml").read_text(), name="s.yaml")
    assert report.added == []
    shop = operator.create_account("shop", name="Shop", timezone="Europe/Kyiv", currency="EUR")
    assert operator.account("shop") == shop
    assert operator.update_account("shop", name="Shop 2").name == "Shop 2"
    assert [a.id for a in operator.accounts(limit=10).data] == ["cafe", "shop", "store"]
    sub = operator.subscribe("shop", "monthly", quantity=2, started_on=date(2026, 3, 1))
    assert operator.change_quantity("shop", sub.id, 3).quantity == 3
    decision = operator.consume("shop", "card_operations", 5, idempotency_key="c1")
    assert decision.draws[0].kind == "plan"
    batch = operator.consume_batch("shop", [{"metric": "card_operations", "idempotency_key": "b1"}])
    assert batch.results[0].decision is not None
    assert operator.take_seat("shop", "owner", idempotency_key="s1").allowed
    assert operator.release_seat("shop", "owner", idempotency_key="s2").allowed
    usage = operator.usage("shop", month="2026-03")
    assert next(m for m in usage.metrics if m.metric == "card_operations").used == 6
    assert [e.quantity for e in operator.ledger("shop", metric="card_operations").data] == [5, 1]


def test_an_error_answer_raises_with_code_and_field(operator: Client) -> None:
    with pytest.raises(AllotError) as err:
        operator.create_account("x", name="X", timezone="Mars/Olympus", currency="EUR")
    assert (err.value.status, err.value.code, err.value.field) == (
        422,
        "unknown_time_zone",
        "timezone",
    )
    with pytest.raises(AllotError) as missing:
        operator.account("nobody")
    assert missing.value.status == 404
