"""Idempotency-Key records (U1, S3, DESIGN rule 7): the first request with a key does the work and
keeps its response in the same transaction; a retry with the same body gets that response, with
another body an error; a refusal rolls the claim back so a retry may succeed; a concurrent retry
waits for the first to finish; keys are per tenant."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from allot.apikey.service import Principal, authenticate, claim_request, complete_request
from allot.billing.keys import issue_key
from allot.core.errors import Conflict, IdempotencyMismatch, InvalidInput
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from tests.domains import add_account, refusal, refused_before_writing

BODY = "hash-of-the-first-body"
RESPONSE: dict[str, Any] = {
    "id": 7,
    "name": "Кав'ярня «Зерно» ☕",
    "lines": [{"amount": "29.00", "tax": None}, {"amount": "-9.00", "nested": {"ok": True}}],
}


@pytest.fixture
def callers(db: Database, clock: FixedClock) -> dict[str, Principal]:
    add_account(db, clock, "cafe")
    add_account(db, clock, "bakery")
    found = {}
    for name, role, subject in (
        ("till", "account", "cafe"),
        ("office", "account", "cafe"),
        ("bakery", "account", "bakery"),
        ("operator", "operator", None),
    ):
        with db.transaction() as conn:
            _, secret = issue_key(conn, clock, role=role, subject=subject)
        with db.read() as conn:
            found[name] = authenticate(conn, secret)
    return found


def attempt(
    db: Database,
    clock: FixedClock,
    caller: Principal,
    key: str,
    body: str = BODY,
    response: dict[str, Any] | None = None,
) -> tuple[int, Any] | None:
    """A POST with an Idempotency-Key: claim it, and if it is ours, do the work and keep the
    response — all in one transaction, as `allot.api_context.idempotent` does."""
    with db.transaction() as conn:
        earlier = claim_request(conn, clock, caller, key, body)
        if earlier is None:
            complete_request(conn, caller, key, 201, response or RESPONSE)
        return earlier


def test_u1_the_first_request_does_the_work_and_a_retry_gets_its_response(
    db: Database, clock: FixedClock, callers: dict[str, Principal]
) -> None:
    till = callers["till"]
    assert attempt(db, clock, till, "order-1") is None
    again = attempt(db, clock, till, "order-1", response={"would": "differ"})
    assert again == (201, RESPONSE)  # unicode, nesting and nulls as they were kept


def test_u1_the_same_key_with_another_body_is_an_error(
    db: Database, clock: FixedClock, callers: dict[str, Principal]
) -> None:
    till = callers["till"]
    attempt(db, clock, till, "order-1")
    error = refused_before_writing(
        db, lambda conn: claim_request(conn, clock, till, "order-1", "another body")
    )
    assert isinstance(error, IdempotencyMismatch)
    assert refusal(error) == (IdempotencyMismatch, "idempotency_key_reused", "idempotency_key")
    assert isinstance(error, Conflict)


def test_s3_a_tenants_keys_are_one_space_and_other_tenants_are_apart(
    db: Database, clock: FixedClock, callers: dict[str, Principal]
) -> None:
    """Two keys of the café share retries; the bakery's same key is a new request, and so is
    each operator key's."""
    attempt(db, clock, callers["till"], "k")
    assert attempt(db, clock, callers["office"], "k") == (201, RESPONSE)
    assert attempt(db, clock, callers["bakery"], "k", response={"bakery": 1}) is None
    assert attempt(db, clock, callers["operator"], "k") is None
    assert attempt(db, clock, callers["bakery"], "k") == (201, {"bakery": 1})


def test_s3_a_kept_response_is_still_replayed_a_day_later(
    db: Database, clock: FixedClock, callers: dict[str, Principal]
) -> None:
    attempt(db, clock, callers["till"], "k")
    clock.advance(timedelta(hours=24, minutes=1))
    assert attempt(db, clock, callers["till"], "k") == (201, RESPONSE)


def test_u8_a_refusal_rolls_the_claim_back_and_the_retry_does_the_work(
    db: Database, clock: FixedClock, callers: dict[str, Principal]
) -> None:
    till = callers["till"]

    def refused_request() -> None:
        with db.transaction() as conn:
            assert claim_request(conn, clock, till, "k", BODY) is None
            raise InvalidInput("invalid_plan", "the work refused", field="plan")

    with pytest.raises(InvalidInput):
        refused_request()
    assert attempt(db, clock, till, "k") is None  # a new request: the claim was rolled back
    assert attempt(db, clock, till, "k") == (201, RESPONSE)


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "line\nbreak", "tab\there"], ids=["empty", "long", "lf", "tab"]
)
def test_u1_a_key_that_is_not_1_to_255_printable_characters_is_refused(
    db: Database, clock: FixedClock, callers: dict[str, Principal], key: str
) -> None:
    error = refused_before_writing(
        db, lambda conn: claim_request(conn, clock, callers["till"], key, BODY)
    )
    assert refusal(error) == (InvalidInput, "invalid_idempotency_key", "idempotency_key")


def test_u1_a_key_of_255_characters_is_a_key(
    db: Database, clock: FixedClock, callers: dict[str, Principal]
) -> None:
    long = "é" * 255
    assert attempt(db, clock, callers["till"], long) is None
    assert attempt(db, clock, callers["till"], long) == (201, RESPONSE)


def test_u1_a_concurrent_retry_waits_for_the_first_and_gets_its_response(
    db: Database, clock: FixedClock, callers: dict[str, Principal]
) -> None:
    till = callers["till"]
    claimed, done = threading.Event(), threading.Event()
    answers: list[tuple[int, Any] | None] = []
    errors: list[BaseException] = []

    def retry() -> None:
        claimed.wait(10)
        try:
            answers.append(attempt(db, clock, till, "k", response={"second": True}))
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=retry)
    worker.start()
    with db.transaction() as conn:
        assert claim_request(conn, clock, till, "k", BODY) is None
        claimed.set()
        assert not done.wait(0.5)  # the retry waits while the first holds the key
        complete_request(conn, till, "k", 201, RESPONSE)
    worker.join(10)
    assert errors == []
    assert answers == [(201, RESPONSE)]
