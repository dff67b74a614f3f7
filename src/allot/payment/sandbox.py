"""The sandbox payment provider: test cards that behave like a real provider's (P3).

It is a provider, not a mock inside allot: it keeps its own books in a SQLite
file of its own (`ALLOT_SANDBOX_PATH`, `var/sandbox.db` by default), written
in transactions of its own, so that a crash of allot between "the provider
charged" and "allot recorded it" leaves exactly what a real provider would
leave. Like a real provider it keeps every charge under its key: the same key
returns the first outcome and never charges twice (`charge`).

A card is entered on the sandbox's own side of a setup (`enter_card`, what
Stripe.js does on a real page) and kept as behaviour, brand and last four
digits — never its number. The test cards are Stripe's own numbers:

    4242 4242 4242 4242   Visa, succeeds          5555 5555 5555 4444  Mastercard, succeeds
    4000 0000 0000 0002   declined (card_declined)      4000 0000 0000 9995  insufficient_funds
    4000 0000 0000 9987   lost_card (hard)              4000 0000 0000 9979  stolen_card (hard)
    4000 0000 0000 0069   expired_card (hard)           4000 0000 0000 0119  processing_error
    4000 0025 0000 3155   needs authentication on its first charge, then succeeds
    4000 0027 6000 3184   needs authentication on every charge
    4000 0000 0000 0341   is saved, but every charge is declined

A hard decline is one a retry cannot fix until the card changes (P4).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from allot.payment.gateway import (
    Card,
    CardSetup,
    ChargeStatus,
    GatewayError,
    Outcome,
    ProviderEvent,
    Refund,
)


@dataclass(frozen=True, slots=True)
class SandboxCard:
    brand: str
    behaviour: str  # succeed | decline | authenticate_once | authenticate_always
    decline_code: str | None = None
    hard: bool = False


TEST_CARDS: dict[str, SandboxCard] = {
    "4242424242424242": SandboxCard("visa", "succeed"),
    "4000056655665556": SandboxCard("visa", "succeed"),  # debit
    "5555555555554444": SandboxCard("mastercard", "succeed"),
    "2223003122003222": SandboxCard("mastercard", "succeed"),
    "378282246310005": SandboxCard("amex", "succeed"),
    "4000000000000002": SandboxCard("visa", "decline", "card_declined"),
    "4000000000009995": SandboxCard("visa", "decline", "insufficient_funds"),
    "4000000000000119": SandboxCard("visa", "decline", "processing_error"),
    "4000000000009987": SandboxCard("visa", "decline", "lost_card", hard=True),
    "4000000000009979": SandboxCard("visa", "decline", "stolen_card", hard=True),
    "4000000000000069": SandboxCard("visa", "decline", "expired_card", hard=True),
    "4000000000000341": SandboxCard("visa", "decline", "card_declined"),
    "4000002500003155": SandboxCard("visa", "authenticate_once"),
    "4000002760003184": SandboxCard("visa", "authenticate_always"),
}

_MESSAGES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "processing_error": "An error occurred while processing your card. Try again.",
    "lost_card": "Your card was declined (reported lost).",
    "stolen_card": "Your card was declined (reported stolen).",
    "expired_card": "Your card has expired.",
    "authentication_failed": "The cardholder did not complete authentication.",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    ref TEXT PRIMARY KEY, account_id TEXT NOT NULL UNIQUE, email TEXT, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS setups (
    ref TEXT PRIMARY KEY, customer TEXT NOT NULL, secret TEXT NOT NULL, card TEXT);
CREATE TABLE IF NOT EXISTS cards (
    ref TEXT PRIMARY KEY, customer TEXT NOT NULL, behaviour TEXT NOT NULL, brand TEXT NOT NULL,
    last4 TEXT NOT NULL, exp_month INTEGER NOT NULL, exp_year INTEGER NOT NULL,
    decline_code TEXT, hard INTEGER NOT NULL, authenticated INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS charges (
    key TEXT PRIMARY KEY, ref TEXT NOT NULL UNIQUE, customer TEXT NOT NULL, card TEXT NOT NULL,
    amount INTEGER NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL, decline_code TEXT,
    hard INTEGER NOT NULL, secret TEXT NOT NULL, description TEXT NOT NULL,
    metadata TEXT NOT NULL, refunded INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS refunds (
    key TEXT PRIMARY KEY, ref TEXT NOT NULL UNIQUE, charge TEXT NOT NULL, amount INTEGER NOT NULL,
    succeeded INTEGER NOT NULL);
"""


def _luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


class SandboxGateway:
    """The built-in provider. `latency` (seconds) delays each call before and after the
    provider's own commit, as a network would: the crash tests aim their kills with it."""

    name = "sandbox"

    def __init__(self, path: str | Path, *, latency: float = 0.0) -> None:
        self.path = Path(path)
        self.latency = latency
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)  # IF NOT EXISTS: every process may run it
        finally:
            db.close()

    @contextmanager
    def _books(self) -> Iterator[sqlite3.Connection]:
        """One transaction of the provider's own, committed before the caller hears back."""
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection to the books (a forked process opens its own)."""
        held: tuple[int, sqlite3.Connection] | None = getattr(self._local, "db", None)
        if held is None or held[0] != os.getpid():
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            held = self._local.db = (os.getpid(), db)
        return held[1]

    def _wire(self) -> None:
        if self.latency:
            time.sleep(self.latency)

    # --- customers and cards --------------------------------------------------------------

    def customer(self, *, account_id: str, email: str | None, name: str) -> str:
        with self._books() as db:
            found = db.execute(
                "SELECT ref FROM customers WHERE account_id = ?", (account_id,)
            ).fetchone()
            if found is not None:
                return str(found[0])
            ref = f"sbx_cus_{secrets.token_hex(8)}"
            db.execute("INSERT INTO customers VALUES (?, ?, ?, ?)", (ref, account_id, email, name))
            return ref

    def start_card_setup(self, *, customer_ref: str) -> CardSetup:
        ref, secret = f"sbx_seti_{secrets.token_hex(8)}", secrets.token_urlsafe(16)
        with self._books() as db:
            self._customer(db, customer_ref)
            db.execute("INSERT INTO setups VALUES (?, ?, ?, NULL)", (ref, customer_ref, secret))
        return CardSetup(setup_ref=ref, client_secret=f"{ref}_secret_{secret}")

    def enter_card(self, *, setup_ref: str, number: str, exp_month: int, exp_year: int) -> None:
        """The sandbox's card field: a test card confirms the setup (its number is not kept)."""
        digits = "".join(ch for ch in number if ch.isdigit())
        card = TEST_CARDS.get(digits)
        if card is None:
            why = "is not a card number" if not _luhn(digits or "1") else "is not a test card"
            raise GatewayError(f"the sandbox takes its test cards only: that number {why}")
        if not (1 <= exp_month <= 12 and 2000 <= exp_year <= 2099):
            raise GatewayError("expiry: a month 1-12 and a four-digit year")
        ref = f"sbx_pm_{secrets.token_hex(8)}"
        with self._books() as db:
            setup = db.execute("SELECT customer FROM setups WHERE ref = ?", (setup_ref,)).fetchone()
            if setup is None:
                raise GatewayError(f"no card setup {setup_ref!r}")
            db.execute(
                "INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (ref, setup[0], card.behaviour, card.brand, digits[-4:], exp_month, exp_year,
                 card.decline_code, int(card.hard)),
            )  # fmt: skip
            db.execute("UPDATE setups SET card = ? WHERE ref = ?", (ref, setup_ref))

    def finish_card_setup(self, *, customer_ref: str, setup_ref: str) -> Card:
        with self._books() as db:
            row = db.execute(
                "SELECT c.ref, c.brand, c.last4, c.exp_month, c.exp_year FROM setups s"
                " JOIN cards c ON c.ref = s.card WHERE s.ref = ? AND s.customer = ?",
                (setup_ref, customer_ref),
            ).fetchone()
        if row is None:
            raise GatewayError(f"card setup {setup_ref!r} has no confirmed card for this customer")
        return Card(
            method_ref=row[0], brand=row[1], last4=row[2], exp_month=row[3], exp_year=row[4]
        )

    @staticmethod
    def _customer(db: sqlite3.Connection, customer_ref: str) -> None:
        if db.execute("SELECT 1 FROM customers WHERE ref = ?", (customer_ref,)).fetchone() is None:
            raise GatewayError(f"no customer {customer_ref!r}")

    # --- charges -----------------------------------------------------------------------------

    def charge(
        self,
        *,
        customer_ref: str,
        method_ref: str,
        amount_minor: int,
        currency: str,
        key: str,
        description: str,
        metadata: Mapping[str, str],
    ) -> Outcome:
        self._wire()
        with self._books() as db:
            done = db.execute(
                "SELECT ref, amount, card FROM charges WHERE key = ?", (key,)
            ).fetchone()
            if done is not None and (done[1], done[2]) != (amount_minor, method_ref):
                raise GatewayError(f"key {key!r} was used for another charge")  # as Stripe says
            if done is None:
                self._new_charge(db, customer_ref, method_ref, amount_minor, currency, key,
                                 description, metadata)  # fmt: skip
            outcome = self._outcome(db, key=key)
        self._wire()
        return outcome

    def _new_charge(
        self,
        db: sqlite3.Connection,
        customer_ref: str,
        method_ref: str,
        amount_minor: int,
        currency: str,
        key: str,
        description: str,
        metadata: Mapping[str, str],
    ) -> None:
        card = db.execute(
            "SELECT behaviour, decline_code, hard, authenticated FROM cards"
            " WHERE ref = ? AND customer = ?",
            (method_ref, customer_ref),
        ).fetchone()
        if card is None:
            raise GatewayError(f"no card {method_ref!r} for customer {customer_ref!r}")
        if amount_minor <= 0:
            raise GatewayError("amount must be positive")
        behaviour, decline_code, hard, authenticated = card
        status, code = {
            "succeed": ("succeeded", None),
            "decline": ("failed", decline_code),
            "authenticate_once": ("succeeded", None)
            if authenticated
            else ("requires_action", None),
            "authenticate_always": ("requires_action", None),
        }[behaviour]
        db.execute(
            "INSERT INTO charges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (key, f"sbx_pi_{secrets.token_hex(8)}", customer_ref, method_ref, amount_minor,
             currency, status, code, int(bool(hard) and status == "failed"),
             secrets.token_urlsafe(16), description, json.dumps(dict(metadata))),
        )  # fmt: skip

    def _outcome(
        self, db: sqlite3.Connection, *, key: str | None = None, ref: str | None = None
    ) -> Outcome:
        row = db.execute(
            "SELECT ref, status, decline_code, hard, secret FROM charges WHERE "
            + ("key = ?" if key is not None else "ref = ?"),
            (key if key is not None else ref,),
        ).fetchone()
        if row is None:
            raise GatewayError(f"no payment {ref or key!r}")
        status = ChargeStatus(row[1])
        return Outcome(
            status=status,
            provider_ref=row[0],
            decline_code=row[2],
            hard=bool(row[3]),
            message=_MESSAGES.get(row[2] or "", ""),
            client_secret=f"{row[0]}_secret_{row[4]}"
            if status is ChargeStatus.REQUIRES_ACTION
            else None,
        )

    def find(self, *, customer_ref: str, key: str) -> Outcome | None:
        self._wire()
        with self._books() as db:
            found = db.execute(
                "SELECT 1 FROM charges WHERE key = ? AND customer = ?", (key, customer_ref)
            ).fetchone()
            return None if found is None else self._outcome(db, key=key)

    def payment(self, *, provider_ref: str) -> Outcome:
        with self._books() as db:
            return self._outcome(db, ref=provider_ref)

    def authenticate(self, *, provider_ref: str, success: bool) -> Outcome:
        """The cardholder on the sandbox's confirmation page (3-D Secure): passes or fails."""
        with self._books() as db:
            row = db.execute(
                "SELECT status, card FROM charges WHERE ref = ?", (provider_ref,)
            ).fetchone()
            if row is None or row[0] != "requires_action":
                raise GatewayError(f"payment {provider_ref!r} is not waiting for the cardholder")
            if success:
                db.execute("UPDATE charges SET status = 'succeeded' WHERE ref = ?", (provider_ref,))
                db.execute("UPDATE cards SET authenticated = 1 WHERE ref = ?", (row[1],))
            else:
                db.execute(
                    "UPDATE charges SET status = 'failed', decline_code = 'authentication_failed'"
                    " WHERE ref = ?",
                    (provider_ref,),
                )
            return self._outcome(db, ref=provider_ref)

    def withdraw(self, *, provider_ref: str) -> Outcome:
        self._wire()
        with self._books() as db:
            db.execute(
                "UPDATE charges SET status = 'failed', decline_code = 'canceled'"
                " WHERE ref = ? AND status = 'requires_action'",
                (provider_ref,),
            )
            return self._outcome(db, ref=provider_ref)

    def refund(self, *, provider_ref: str, amount_minor: int, key: str) -> Refund:
        self._wire()
        with self._books() as db:
            done = db.execute(
                "SELECT ref, amount, succeeded FROM refunds WHERE key = ?", (key,)
            ).fetchone()
            if done is None:
                charge = db.execute(
                    "SELECT amount, refunded, status FROM charges WHERE ref = ?", (provider_ref,)
                ).fetchone()
                if charge is None or charge[2] != "succeeded":
                    raise GatewayError(f"payment {provider_ref!r} has nothing to refund")
                ok = 0 < amount_minor <= charge[0] - charge[1]
                done = (f"sbx_re_{secrets.token_hex(8)}", amount_minor, int(ok))
                db.execute(
                    "INSERT INTO refunds VALUES (?, ?, ?, ?, ?)",
                    (key, done[0], provider_ref, amount_minor, int(ok)),
                )
                if ok:
                    db.execute(
                        "UPDATE charges SET refunded = refunded + ? WHERE ref = ?",
                        (amount_minor, provider_ref),
                    )
        self._wire()
        return Refund(provider_ref=done[0], amount_minor=done[1], succeeded=bool(done[2]),
                      message="" if done[2] else "more than is left to refund")  # fmt: skip

    def verify_event(self, *, payload: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        raise GatewayError("the sandbox sends no webhooks: its outcomes are known at once")

    # --- the provider's own books, for tests and the crash drill ------------------------------

    def charges(self) -> list[dict[str, object]]:
        """Every charge the provider holds, oldest first."""
        with self._books() as db:
            cursor = db.execute("SELECT * FROM charges ORDER BY rowid")
            names = [c[0] for c in cursor.description]
            rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        return [r | {"metadata": json.loads(str(r["metadata"]))} for r in rows]
