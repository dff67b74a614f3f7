"""Every query of the payment domain; it writes only the payment tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from allot.kit.db import insert_for
from allot.payment.models import (
    AttemptState,
    CollectionState,
    MethodState,
    RefundState,
    collections,
    payment_attempts,
    payment_customers,
    payment_methods,
    refunds,
)


@dataclass(frozen=True, slots=True)
class MethodRow:
    id: int
    account_id: str
    gateway: str
    method_ref: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    state: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRow:
    id: int
    invoice_id: int
    account_id: str
    method_id: int
    gateway: str
    key: str
    amount_minor: int
    currency: str
    state: str
    provider_ref: str | None
    decline_code: str | None
    hard: bool
    message: str | None
    client_secret: str | None
    created_at: datetime
    lease_until: datetime | None
    calls: int
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class CollectionRow:
    invoice_id: int
    account_id: str
    subscription_id: int | None
    state: str
    tries: int
    next_try_at: datetime | None
    first_failed_at: datetime | None
    final_rule: str | None
    restore_plan_id: int | None
    created_at: datetime
    updated_at: datetime


# --- customers and cards ---------------------------------------------------------------------


# The statements a charge runs, built once (SQLAlchemy then finds them compiled by key).
_CUSTOMER = sa.select(payment_customers.c.customer_ref).where(
    payment_customers.c.account_id == sa.bindparam("account_id"),
    payment_customers.c.gateway == sa.bindparam("gateway"),
)
_ACTIVE = sa.select(payment_methods).where(
    payment_methods.c.account_id == sa.bindparam("account_id"),
    payment_methods.c.state == MethodState.ACTIVE.value,
)
_METHOD = sa.select(payment_methods).where(payment_methods.c.id == sa.bindparam("method_id"))
_ATTEMPT = sa.select(payment_attempts).where(payment_attempts.c.id == sa.bindparam("attempt_id"))
_COLLECTION = sa.select(collections).where(collections.c.invoice_id == sa.bindparam("invoice_id"))


def customer_ref(conn: Connection, account_id: str, gateway: str) -> str | None:
    found = conn.execute(_CUSTOMER, {"account_id": account_id, "gateway": gateway})
    return found.scalar_one_or_none()


def insert_customer(
    conn: Connection, account_id: str, gateway: str, ref: str, at: datetime
) -> None:
    conn.execute(
        sa.insert(payment_customers).values(
            account_id=account_id, gateway=gateway, customer_ref=ref, created_at=at
        )
    )


def active_method(conn: Connection, account_id: str) -> MethodRow | None:
    row = conn.execute(_ACTIVE, {"account_id": account_id}).one_or_none()
    return None if row is None else MethodRow(**row._mapping)


def get_method(conn: Connection, method_id: int) -> MethodRow:
    return MethodRow(**conn.execute(_METHOD, {"method_id": method_id}).one()._mapping)


def replace_method(conn: Connection, account_id: str, values: dict[str, Any]) -> int:
    """The account's new active card; the old one, if any, is kept as replaced."""
    conn.execute(
        sa.update(payment_methods)
        .where(
            payment_methods.c.account_id == account_id,
            payment_methods.c.state == MethodState.ACTIVE,
        )
        .values(state=MethodState.REPLACED)
    )
    return int(
        conn.execute(
            sa.insert(payment_methods)
            .values(account_id=account_id, state=MethodState.ACTIVE, **values)
            .returning(payment_methods.c.id)
        ).scalar_one()
    )


# --- attempts --------------------------------------------------------------------------------


def insert_attempt(conn: Connection, **values: Any) -> AttemptRow:
    attempt_id = conn.execute(
        sa.insert(payment_attempts)
        .values(state=AttemptState.PENDING, **values)
        .returning(payment_attempts.c.id)
    ).scalar_one()
    return get_attempt(conn, int(attempt_id))


def get_attempt(conn: Connection, attempt_id: int) -> AttemptRow:
    return AttemptRow(**conn.execute(_ATTEMPT, {"attempt_id": attempt_id}).one()._mapping)


def find_attempt(conn: Connection, attempt_id: int) -> AttemptRow | None:
    row = conn.execute(_ATTEMPT, {"attempt_id": attempt_id}).one_or_none()
    return None if row is None else AttemptRow(**row._mapping)


def attempt_by_provider_ref(conn: Connection, provider_ref: str) -> AttemptRow | None:
    row = conn.execute(
        sa.select(payment_attempts)
        .where(payment_attempts.c.provider_ref == provider_ref)
        .order_by(payment_attempts.c.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else AttemptRow(**row._mapping)


def attempts_of(conn: Connection, invoice_id: int) -> list[AttemptRow]:
    rows = conn.execute(
        sa.select(payment_attempts)
        .where(payment_attempts.c.invoice_id == invoice_id)
        .order_by(payment_attempts.c.id)
    )
    return [AttemptRow(**r._mapping) for r in rows]


def attempts_of_account(conn: Connection, account_id: str, limit: int = 100) -> list[AttemptRow]:
    rows = conn.execute(
        sa.select(payment_attempts)
        .where(payment_attempts.c.account_id == account_id)
        .order_by(payment_attempts.c.id.desc())
        .limit(limit)
    )
    return [AttemptRow(**r._mapping) for r in rows]


def open_attempt(conn: Connection, invoice_id: int) -> AttemptRow | None:
    """The invoice's attempt whose outcome is not final yet (pending, requires_action,
    processing): while there is one, no other is made."""
    row = conn.execute(
        sa.select(payment_attempts)
        .where(
            payment_attempts.c.invoice_id == invoice_id,
            payment_attempts.c.state.in_(
                [AttemptState.PENDING, AttemptState.REQUIRES_ACTION, AttemptState.PROCESSING]
            ),
        )
        .order_by(payment_attempts.c.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else AttemptRow(**row._mapping)


def finish_attempt(conn: Connection, attempt_id: int, *, state: str, **values: Any) -> bool:
    """Record an outcome; False if the attempt had it already, or a final one (a duplicate
    report, or one that arrives late). A success is the exception: money moved, so it is
    recorded over a failure too (a cardholder who failed 3-D Secure and then paid on the
    provider's page)."""
    open_states = [AttemptState.PENDING, AttemptState.REQUIRES_ACTION, AttemptState.PROCESSING]
    if state == AttemptState.SUCCEEDED:
        open_states.append(AttemptState.FAILED)
    done = conn.execute(
        sa.update(payment_attempts)
        .where(
            payment_attempts.c.id == attempt_id,
            payment_attempts.c.state.in_(open_states),
            payment_attempts.c.state != state,
        )
        .values(state=state, **values)
    )
    return done.rowcount == 1


def stale_attempts(
    conn: Connection, now: datetime, limit: int, *, gateway: str
) -> list[AttemptRow]:
    """Pending attempts whose lease ran out: the process that made them died mid-call. Only
    those made through `gateway`: another provider's are asked by a worker that has it."""
    rows = conn.execute(
        sa.select(payment_attempts)
        .where(
            payment_attempts.c.state == AttemptState.PENDING,
            payment_attempts.c.lease_until <= now,
            payment_attempts.c.gateway == gateway,
        )
        .order_by(payment_attempts.c.lease_until)
        .limit(limit)
    )
    return [AttemptRow(**r._mapping) for r in rows]


def attempts_to_poll(
    conn: Connection, now: datetime, limit: int, *, gateway: str
) -> list[AttemptRow]:
    """Payments waiting on the cardholder or the provider, due to be asked how they stand
    (those made through `gateway`)."""
    rows = conn.execute(
        sa.select(payment_attempts)
        .where(
            payment_attempts.c.state.in_([AttemptState.REQUIRES_ACTION, AttemptState.PROCESSING]),
            payment_attempts.c.lease_until <= now,
            payment_attempts.c.gateway == gateway,
        )
        .order_by(payment_attempts.c.lease_until)
        .limit(limit)
    )
    return [AttemptRow(**r._mapping) for r in rows]


def poll_waiting_now(conn: Connection, invoice_id: int, now: datetime) -> None:
    """The invoice's payments waiting on the cardholder, asked about in the next round."""
    conn.execute(
        sa.update(payment_attempts)
        .where(
            payment_attempts.c.invoice_id == invoice_id,
            payment_attempts.c.state == AttemptState.REQUIRES_ACTION,
        )
        .values(lease_until=now)
    )


def set_poll(conn: Connection, attempt_id: int, at: datetime) -> None:
    conn.execute(
        sa.update(payment_attempts)
        .where(payment_attempts.c.id == attempt_id)
        .values(lease_until=at)
    )


def note_attempt(conn: Connection, attempt_id: int, *, message: str) -> None:
    """Why the provider did not answer (the attempt stays as it was), counted."""
    conn.execute(
        sa.update(payment_attempts)
        .where(payment_attempts.c.id == attempt_id)
        .values(message=message, calls=payment_attempts.c.calls + 1)
    )


def renew_lease(conn: Connection, attempt_id: int, until: datetime) -> bool:
    done = conn.execute(
        sa.update(payment_attempts)
        .where(
            payment_attempts.c.id == attempt_id,
            payment_attempts.c.state == AttemptState.PENDING,
        )
        .values(lease_until=until)
    )
    return done.rowcount == 1


def count_attempts(conn: Connection, invoice_id: int) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(payment_attempts)
            .where(payment_attempts.c.invoice_id == invoice_id)
        ).scalar_one()
    )


# --- collections -----------------------------------------------------------------------------


def get_collection(conn: Connection, invoice_id: int) -> CollectionRow | None:
    row = conn.execute(_COLLECTION, {"invoice_id": invoice_id}).one_or_none()
    return None if row is None else CollectionRow(**row._mapping)


def insert_collection(conn: Connection, **values: Any) -> None:
    """A new collection, unless another process opened it first (then nothing)."""
    conn.execute(
        insert_for(conn, collections)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["invoice_id"])
    )


def update_collection(conn: Connection, invoice_id: int, **values: Any) -> None:
    conn.execute(
        sa.update(collections).where(collections.c.invoice_id == invoice_id).values(**values)
    )


def due_collections(conn: Connection, now: datetime, limit: int) -> list[CollectionRow]:
    rows = conn.execute(
        sa.select(collections)
        .where(collections.c.state == CollectionState.COLLECTING, collections.c.next_try_at <= now)
        .order_by(collections.c.next_try_at, collections.c.invoice_id)
        .limit(limit)
    )
    return [CollectionRow(**r._mapping) for r in rows]


def expired_confirmations(conn: Connection, now: datetime, limit: int) -> list[CollectionRow]:
    """Collections waiting on a cardholder's confirmation past their time (`next_try_at`)."""
    rows = conn.execute(
        sa.select(collections)
        .where(
            collections.c.state == CollectionState.REQUIRES_ACTION,
            collections.c.next_try_at <= now,
        )
        .order_by(collections.c.next_try_at, collections.c.invoice_id)
        .limit(limit)
    )
    return [CollectionRow(**r._mapping) for r in rows]


OPEN_STATES = (
    CollectionState.COLLECTING,
    CollectionState.WAITING_FOR_CARD,
    CollectionState.REQUIRES_ACTION,
    CollectionState.EXHAUSTED,
)


def open_collections_of_subscription(conn: Connection, subscription_id: int) -> list[int]:
    """The invoices of a subscription still being collected."""
    return list(
        conn.execute(
            sa.select(collections.c.invoice_id).where(
                collections.c.subscription_id == subscription_id,
                collections.c.state.in_([s.value for s in OPEN_STATES]),
            )
        ).scalars()
    )


def open_collections(
    conn: Connection, account_id: str, states: Sequence[str] = OPEN_STATES
) -> list[CollectionRow]:
    rows = conn.execute(
        sa.select(collections)
        .where(collections.c.account_id == account_id, collections.c.state.in_(list(states)))
        .order_by(collections.c.invoice_id)
    )
    return [CollectionRow(**r._mapping) for r in rows]


def collections_in(
    conn: Connection, states: Sequence[str] = OPEN_STATES, *, limit: int = 200
) -> list[CollectionRow]:
    """Every account's collections in `states`, the next to be tried first: the admin's
    dunning queue."""
    rows = conn.execute(
        sa.select(collections)
        .where(collections.c.state.in_(list(states)))
        .order_by(
            collections.c.next_try_at.is_(None), collections.c.next_try_at, collections.c.invoice_id
        )
        .limit(limit)
    )
    return [CollectionRow(**r._mapping) for r in rows]


# --- refunds ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefundRow:
    credit_note_id: int
    attempt_id: int
    account_id: str
    amount_minor: int
    key: str
    state: str
    provider_ref: str | None
    created_at: datetime
    lease_until: datetime
    finished_at: datetime | None


_REFUND = sa.select(refunds).where(refunds.c.credit_note_id == sa.bindparam("note_id"))


def get_refund(conn: Connection, credit_note_id: int) -> RefundRow | None:
    row = conn.execute(_REFUND, {"note_id": credit_note_id}).one_or_none()
    return None if row is None else RefundRow(**row._mapping)


def insert_refund(conn: Connection, **values: Any) -> RefundRow:
    conn.execute(sa.insert(refunds).values(state=RefundState.PENDING, **values))
    found = get_refund(conn, int(values["credit_note_id"]))
    assert found is not None
    return found


def finish_refund(conn: Connection, credit_note_id: int, **values: Any) -> bool:
    done = conn.execute(
        sa.update(refunds)
        .where(refunds.c.credit_note_id == credit_note_id, refunds.c.state == RefundState.PENDING)
        .values(**values)
    )
    return done.rowcount == 1


def stale_refunds(conn: Connection, now: datetime, limit: int, *, gateway: str) -> list[RefundRow]:
    """Refunds still pending past their lease: the process that asked died, or the provider
    did not answer. Only refunds of payments made through `gateway`."""
    rows = conn.execute(
        sa.select(refunds)
        .join(payment_attempts, payment_attempts.c.id == refunds.c.attempt_id)
        .where(
            refunds.c.state == RefundState.PENDING,
            refunds.c.lease_until <= now,
            payment_attempts.c.gateway == gateway,
        )
        .order_by(refunds.c.lease_until)
        .limit(limit)
    )
    return [RefundRow(**r._mapping) for r in rows]


def renew_refund(conn: Connection, credit_note_id: int, until: datetime) -> bool:
    done = conn.execute(
        sa.update(refunds)
        .where(refunds.c.credit_note_id == credit_note_id, refunds.c.state == RefundState.PENDING)
        .values(lease_until=until)
    )
    return done.rowcount == 1


def refunded_of(conn: Connection, attempt_id: int) -> int:
    """What has been (or is being) given back of a payment."""
    return int(
        conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(refunds.c.amount_minor), 0)).where(
                refunds.c.attempt_id == attempt_id, refunds.c.state != RefundState.FAILED
            )
        ).scalar_one()
    )
