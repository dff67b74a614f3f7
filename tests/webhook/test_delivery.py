"""Emit → outbox → worker → a real receiver on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from allot.kit.backoff import RETRY_DELAYS
from allot.kit.clock import FixedClock, SystemClock
from allot.kit.db import Database
from allot.webhook.delivery import LEASE, Outcome, deliver_due, lease, record
from allot.webhook.models import webhook_events
from allot.webhook.repository import DeliveryRow
from allot.webhook.service import (
    delivery_attempts,
    emit,
    list_deliveries,
    redeliver,
    remove_endpoint,
)
from tests.webhook.conftest import Receiver, add_endpoint, deliver

THRESHOLD = {"metric": "card_operations", "percent": 80, "period": "2026-01"}


def _emit(db: Database, clock: FixedClock, type: str = "usage.threshold_reached") -> int:
    with db.transaction() as conn:
        return emit(conn, clock, type=type, payload=THRESHOLD, account_id="cafe")


def _only_delivery(db: Database) -> DeliveryRow:
    with db.read() as conn:
        rows = list_deliveries(conn)
    assert len(rows) == 1
    return rows[0]


def test_an_emitted_event_is_delivered_once_and_signed(
    db: Database, clock: FixedClock, receiver: Receiver, http: httpx.Client
) -> None:
    add_endpoint(db, clock, receiver)
    event_id = _emit(db, clock)
    assert receiver.received == []  # nothing leaves before the worker runs

    assert deliver(db, clock, http) == 1
    assert receiver.messages == [
        {
            "type": "usage.threshold_reached",
            "timestamp": "2026-01-05T09:00:00Z",
            "data": THRESHOLD,
        }
    ]
    headers = receiver.received[0].headers
    assert headers["webhook-id"] == f"msg_{event_id}"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("allot-webhooks/")

    delivery = _only_delivery(db)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at == clock.now()
    assert delivery.next_attempt_at is None
    assert delivery.lease_until is None
    assert deliver(db, clock, http) == 0
    assert len(receiver.received) == 1


def test_the_event_leaves_only_if_its_transaction_commits(
    db: Database, clock: FixedClock, receiver: Receiver, http: httpx.Client
) -> None:
    add_endpoint(db, clock, receiver)

    def change_that_fails() -> None:
        with db.transaction() as conn:
            emit(conn, clock, type="usage.threshold_reached", payload=THRESHOLD, account_id="cafe")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert deliver(db, clock, http) == 0
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar() == 0
    assert receiver.received == []


def test_only_enabled_endpoints_subscribed_to_the_type_get_a_delivery(
    db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    wants = add_endpoint(db, clock, receiver, ("usage.threshold_reached", "subscription.updated"))
    add_endpoint(db, clock, receiver, ("usage.overage_recorded",))
    removed = add_endpoint(db, clock, receiver, ("usage.threshold_reached",))
    with db.transaction() as conn:
        remove_endpoint(conn, clock, endpoint_id=removed.id)
    event_id = _emit(db, clock)
    assert [(d.endpoint_id, d.event_id, d.state) for d in _all(db)] == [
        (wants.id, event_id, "pending")
    ]
    _emit(db, clock, "subscription.updated")
    assert len(_all(db)) == 2


def _all(db: Database) -> list[DeliveryRow]:
    with db.read() as conn:
        return list_deliveries(conn)


def test_an_unknown_event_type_or_a_payload_that_is_not_json_is_a_programming_error(
    db: Database, clock: FixedClock
) -> None:
    with db.transaction() as conn:
        with pytest.raises(ValueError, match="unknown webhook event type"):
            emit(conn, clock, type="usage.nope", payload={}, account_id=None)
        with pytest.raises(TypeError):
            emit(
                conn,
                clock,
                type="subscription.updated",
                payload={"at": clock.now()},
                account_id=None,
            )


def test_a_receiver_that_fails_twice_then_succeeds_gets_the_event_marked_delivered_once(
    db: Database, clock: FixedClock, receiver: Receiver, http: httpx.Client
) -> None:
    add_endpoint(db, clock, receiver)
    event_id = _emit(db, clock)
    receiver.plan = [500, 500]

    assert deliver(db, clock, http) == 1  # attempt 1: 500
    first = _only_delivery(db)
    assert (first.state, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert first.last_error == "HTTP 500: nope"
    assert first.next_attempt_at == clock.now() + RETRY_DELAYS[0]
    assert deliver(db, clock, http) == 0  # not due yet

    clock.advance(RETRY_DELAYS[0])
    assert deliver(db, clock, http) == 1  # attempt 2: 500
    assert _only_delivery(db).next_attempt_at == clock.now() + RETRY_DELAYS[1]
    clock.advance(RETRY_DELAYS[1] - timedelta(seconds=1))
    assert deliver(db, clock, http) == 0
    clock.advance(timedelta(seconds=1))
    assert deliver(db, clock, http) == 1  # attempt 3: 200

    done = _only_delivery(db)
    assert (done.state, done.attempts, done.last_status_code) == ("delivered", 3, 200)
    assert done.delivered_at == clock.now()
    assert done.last_error is None
    assert len(receiver.messages) == 3  # every attempt verified
    assert {r.headers["webhook-id"] for r in receiver.received} == {f"msg_{event_id}"}
    assert len({r.body for r in receiver.received}) == 1  # the same body each time
    with db.read() as conn:
        log = delivery_attempts(conn, done.id)
    assert [a.status_code for a in log] == [500, 500, 200]
    assert all(a.duration_ms >= 0 for a in log)

    clock.advance(timedelta(days=4))
    assert deliver(db, clock, http) == 0
    assert len(receiver.received) == 3


def test_a_delivery_that_never_succeeds_fails_after_about_three_days(
    db: Database, clock: FixedClock, receiver: Receiver, http: httpx.Client
) -> None:
    assert timedelta(days=2.5) < sum(RETRY_DELAYS, timedelta()) < timedelta(days=3.5)
    add_endpoint(db, clock, receiver)
    _emit(db, clock)
    receiver.plan = [503] * 100
    started = clock.now()
    for delay in RETRY_DELAYS:
        assert deliver(db, clock, http) == 1
        assert _only_delivery(db).state == "pending"
        clock.advance(delay)
    assert deliver(db, clock, http) == 1  # the last attempt
    failed = _only_delivery(db)
    assert (failed.state, failed.attempts, failed.next_attempt_at) == (
        "failed",
        len(RETRY_DELAYS) + 1,
        None,
    )
    assert clock.now() - started == sum(RETRY_DELAYS, timedelta())
    clock.advance(timedelta(days=30))
    assert deliver(db, clock, http) == 0
    assert len(receiver.messages) == len(RETRY_DELAYS) + 1


def test_no_answer_is_logged_as_an_error_and_retried(
    db: Database, clock: FixedClock, receiver: Receiver, http: httpx.Client
) -> None:
    endpoint = add_endpoint(db, clock, receiver)
    receiver.stop()  # nobody listens on that port any more
    _emit(db, clock)
    assert deliver(db, clock, http) == 1
    delivery = _only_delivery(db)
    assert (delivery.state, delivery.last_status_code) == ("pending", None)
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("ConnectError")
    assert endpoint.url.startswith("http://127.0.0.1:")


def test_the_guard_is_checked_again_before_each_attempt(
    db: Database, clock: FixedClock, receiver: Receiver, http: httpx.Client
) -> None:
    add_endpoint(db, clock, receiver)  # registered while private addresses were allowed
    _emit(db, clock)
    assert deliver_due(db, clock, http=http, allow_private=False) == 1
    delivery = _only_delivery(db)
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("webhook_url_not_allowed [url]")
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert receiver.received == []


def test_redeliver_sends_a_delivered_event_again_with_the_same_id(
    db: Database, clock: FixedClock, receiver: Receiver, http: httpx.Client
) -> None:
    add_endpoint(db, clock, receiver)
    _emit(db, clock)
    deliver(db, clock, http)
    delivery = _only_delivery(db)
    clock.advance(timedelta(hours=1))
    with db.transaction() as conn:
        again = redeliver(conn, clock, delivery_id=delivery.id)
    assert (again.state, again.attempts, again.next_attempt_at) == ("pending", 0, clock.now())
    assert again.delivered_at is None
    assert deliver(db, clock, http) == 1
    assert _only_delivery(db).state == "delivered"
    assert len(receiver.messages) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    with db.read() as conn:
        assert len(delivery_attempts(conn, delivery.id)) == 2


def test_redeliver_gives_a_failed_delivery_a_fresh_schedule(
    db: Database, clock: FixedClock, receiver: Receiver, http: httpx.Client
) -> None:
    add_endpoint(db, clock, receiver)
    _emit(db, clock)
    receiver.plan = [500] * (len(RETRY_DELAYS) + 1)
    for delay in (*RETRY_DELAYS, timedelta()):
        deliver(db, clock, http)
        clock.advance(delay)
    failed = _only_delivery(db)
    assert failed.state == "failed"
    with db.transaction() as conn:
        redeliver(conn, clock, delivery_id=failed.id)
    receiver.plan = [500]
    deliver(db, clock, http)
    assert _only_delivery(db).state == "pending"  # retried again, not failed at once
    clock.advance(RETRY_DELAYS[0])
    deliver(db, clock, http)
    assert _only_delivery(db).state == "delivered"


def test_a_lease_that_runs_out_comes_back_and_a_late_worker_changes_nothing(
    db: Database, clock: FixedClock, receiver: Receiver, http: httpx.Client
) -> None:
    add_endpoint(db, clock, receiver)
    _emit(db, clock)
    [stale] = lease(db, clock, limit=10)  # a worker that then hangs
    assert deliver(db, clock, http) == 0  # leased: nobody else takes it
    clock.advance(LEASE)
    assert deliver(db, clock, http) == 1  # the lease ran out: delivered by another worker
    with db.transaction() as conn:
        record(conn, clock, stale, Outcome(500, "HTTP 500", 3))  # the hung worker wakes up
    delivery = _only_delivery(db)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    with db.read() as conn:
        assert len(delivery_attempts(conn, delivery.id)) == 2  # both attempts are in the log


def test_two_workers_racing_deliver_each_event_exactly_once(
    db: Database, clock: FixedClock, receiver: Receiver
) -> None:
    add_endpoint(db, clock, receiver)
    events = 40
    for _ in range(events):
        _emit(db, clock)
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        done = 0
        try:
            with httpx.Client(timeout=10) as client:
                start.wait()
                while True:
                    n = deliver_due(
                        db,
                        clock,
                        http=client,
                        limit=3,
                        allow_private=True,
                        signing_clock=SystemClock(),
                    )
                    if n == 0:
                        break
                    done += n
        except BaseException as exc:
            errors.append(exc)
        counts.append(done)

    pool = [threading.Thread(target=work) for _ in range(2)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    assert sum(counts) == events
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(receiver.messages) == events
    assert len(set(ids)) == events
    deliveries = _all(db)
    assert {d.state for d in deliveries} == {"delivered"}
    assert {d.attempts for d in deliveries} == {1}
