"""Registering and removing endpoints; the refusals each name their field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.webhook.delivery import lease
from allot.webhook.events import EVENT_TYPES
from allot.webhook.service import (
    create_endpoint,
    emit,
    get_delivery,
    list_deliveries,
    list_endpoints,
    redeliver,
    remove_endpoint,
)

URL = "http://127.0.0.1:9/hooks"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks example


def _create(db: Database, clock: FixedClock, **kwargs: Any) -> Any:
    args: dict[str, Any] = {"url": URL, "event_types": ["usage.threshold_reached"]}
    args.update(kwargs)
    with db.transaction() as conn:
        return create_endpoint(conn, clock, allow_private=True, **args)


def test_a_generated_secret_is_a_standard_webhooks_secret(db: Database, clock: FixedClock) -> None:
    row = _create(db, clock, event_types=[*EVENT_TYPES, "usage.threshold_reached"])
    assert row.secret.startswith("whsec_")
    Webhook(row.secret)  # accepted by the library
    assert row.event_types == EVENT_TYPES  # duplicates dropped, order kept
    assert (row.url, row.description, row.disabled, row.created_at) == (
        URL,
        "",
        False,
        clock.now(),
    )
    assert _create(db, clock).secret != row.secret


def test_a_given_secret_is_kept(db: Database, clock: FixedClock) -> None:
    assert _create(db, clock, secret=SECRET, description=" CRM ").secret == SECRET
    assert list_endpoints_now(db)[0].description == "CRM"


def list_endpoints_now(db: Database, **kwargs: bool) -> list[Any]:
    with db.read() as conn:
        return list_endpoints(conn, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"event_types": ["usage.nope"]}, "unknown_event_type", "event_types"),
        ({"event_types": []}, "required", "event_types"),
        ({"event_types": "usage.threshold_reached"}, "required", "event_types"),
        ({"secret": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "invalid_webhook_secret", "secret"),
        ({"secret": "whsec_c2hvcnQ="}, "invalid_webhook_secret", "secret"),
        ({"secret": "whsec_not base64!"}, "invalid_webhook_secret", "secret"),
        ({"description": "x" * 201}, "too_long", "description"),
        ({"description": "a\x00b"}, "invalid_text", "description"),
        ({"url": "file:///etc/passwd"}, "webhook_url_not_allowed", "url"),
    ],
)
def test_invalid_registrations_are_refused_and_nothing_is_written(
    db: Database, clock: FixedClock, kwargs: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _create(db, clock, **kwargs)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert list_endpoints_now(db, include_disabled=True) == []


def test_a_private_url_is_refused_unless_allowed(db: Database, clock: FixedClock) -> None:
    with pytest.raises(InvalidInput) as refused, db.transaction() as conn:
        create_endpoint(
            conn, clock, url=URL, event_types=["usage.threshold_reached"], allow_private=False
        )
    assert refused.value.code == "webhook_url_not_allowed"


def test_removing_an_endpoint_fails_what_it_had_pending_and_keeps_its_log(
    db: Database, clock: FixedClock
) -> None:
    row = _create(db, clock)
    with db.transaction() as conn:
        emit(conn, clock, type="usage.threshold_reached", payload={}, account_id=None)
        removed = remove_endpoint(conn, clock, endpoint_id=row.id)
        again = remove_endpoint(conn, clock, endpoint_id=row.id)  # a second removal changes nothing
        [delivery] = list_deliveries(conn)
    assert removed.disabled
    assert again.disabled
    assert (delivery.state, delivery.last_error) == ("failed", "endpoint removed")
    assert list_endpoints_now(db) == []
    assert [e.id for e in list_endpoints_now(db, include_disabled=True)] == [row.id]
    with pytest.raises(Conflict) as refused, db.transaction() as conn:
        redeliver(conn, clock, delivery_id=delivery.id)
    assert refused.value.code == "webhook_endpoint_disabled"


def test_unknown_ids_are_404s(db: Database, clock: FixedClock) -> None:
    with db.transaction() as conn:
        with pytest.raises(NotFound) as endpoint:
            remove_endpoint(conn, clock, endpoint_id=99)
        with pytest.raises(NotFound) as delivery:
            redeliver(conn, clock, delivery_id=99)
    assert (endpoint.value.code, endpoint.value.field) == (
        "webhook_endpoint_not_found",
        "endpoint_id",
    )
    assert (delivery.value.code, delivery.value.field) == (
        "webhook_delivery_not_found",
        "delivery_id",
    )


def test_a_delivery_being_sent_cannot_be_redelivered_until_its_lease_runs_out(
    db: Database, clock: FixedClock
) -> None:
    _create(db, clock)
    with db.transaction() as conn:
        emit(conn, clock, type="usage.threshold_reached", payload={}, account_id=None)
    [claim] = lease(db, clock, limit=1)
    with pytest.raises(Conflict) as refused, db.transaction() as conn:
        redeliver(conn, clock, delivery_id=claim.delivery_id)
    assert refused.value.code == "webhook_delivery_in_flight"
    clock.advance(timedelta(minutes=10))
    with db.transaction() as conn:
        assert redeliver(conn, clock, delivery_id=claim.delivery_id).lease_until is None
        assert get_delivery(conn, claim.delivery_id).next_attempt_at == clock.now()


def test_the_delivery_log_filters_and_pages(db: Database, clock: FixedClock) -> None:
    first = _create(db, clock)
    second = _create(db, clock, event_types=["subscription.updated"])
    with db.transaction() as conn:
        for _ in range(3):
            emit(conn, clock, type="usage.threshold_reached", payload={}, account_id="a")
        emit(conn, clock, type="subscription.updated", payload={}, account_id="a")
        remove_endpoint(conn, clock, endpoint_id=second.id)
        everything = list_deliveries(conn)
        assert [d.id for d in everything] == sorted((d.id for d in everything), reverse=True)
        assert {d.endpoint_id for d in list_deliveries(conn, endpoint_id=first.id)} == {first.id}
        assert [d.endpoint_id for d in list_deliveries(conn, state="failed")] == [second.id]
        page = list_deliveries(conn, limit=2)
        rest = list_deliveries(conn, limit=2, before=page[-1].id)
        assert [d.id for d in page + rest] == [d.id for d in everything]
        with pytest.raises(InvalidInput) as refused:
            list_deliveries(conn, state="lost")
    assert refused.value.field == "state"
