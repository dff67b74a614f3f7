"""P4: a credit note on a paid invoice refunds to the card, or stays as a credit balance that
the next invoices take off their total — the operator's choice per note — and no money paid
is ever lost between the two.

The café of the payment scenarios (`tests.scenarios.cafe`): stamp-card Monthly, EUR 29 on
the 1st of each month, no tax, its card on the sandbox; February is paid by card.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import pytest
import sqlalchemy as sa

from allot.account import repository as account_repo
from allot.billing import refunds
from allot.billing.refunds import refund_note
from allot.core.errors import Conflict
from allot.invoice import balance
from allot.invoice import repository as invoice_repo
from allot.invoice.repository import CreditNoteRow, InvoiceRow
from allot.kit.db import Database
from allot.payment.gateway import Outcome
from allot.payment.sandbox import SandboxGateway
from tests.scenarios.cafe import DECLINES, GOOD, KYIV, Cafe


@pytest.fixture
def cafe(db: Database, tmp_path: Path) -> Cafe:
    c = Cafe(db, tmp_path)
    c.card(GOOD)
    c.day(2, 1)  # February: EUR 29, charged and paid
    return c


def note(
    cafe: Cafe,
    invoice: InvoiceRow,
    *,
    amounts: Mapping[int, str] | None = None,
    settle: str | None = None,
) -> CreditNoteRow:
    with cafe.db.transaction() as conn:
        return refunds.credit_note(
            conn, cafe.world.clock, invoice_id=invoice.id, reason="closed for works",
            amounts=amounts, issued_on=invoice.issued_on, settle=settle,
        )  # fmt: skip


def credit(cafe: Cafe) -> int:
    with cafe.db.read() as conn:
        account = account_repo.get(conn, "cafe")
        assert account is not None
        assert balance.mismatches(conn) == []  # the balance is the sum of its moves
        return account.credit_balance_minor


def moves(cafe: Cafe) -> list[tuple[str, int, str | None, str | None]]:
    with cafe.db.read() as conn:
        entries = invoice_repo.balance_entries(conn, "cafe")
    return [(e.move, e.amount_minor, e.credit_note, e.invoice) for e in reversed(entries)]


def test_p4_a_note_on_a_paid_invoice_is_kept_as_credit_and_taken_off_the_next(cafe: Cafe) -> None:
    february = cafe.world.invoices("cafe")[0]
    kept = note(cafe, february, amounts={0: "10"})  # EUR 10 back, not refunded: the default
    assert (kept.settled_as, kept.settled_minor, credit(cafe)) == ("balance", 1000, 1000)

    cafe.day(3, 1)
    cafe.world.bill()  # run again: the balance is taken once
    march = cafe.world.invoices("cafe")[-1]
    assert (march.total_minor, march.credit_applied_minor, march.state) == (2900, 1000, "paid")
    assert [c["amount"] for c in cafe.charges()] == [2900, 1900]  # the card pays the rest
    assert credit(cafe) == 0
    assert moves(cafe) == [
        ("credit_note", 1000, kept.number, None),
        ("applied", -1000, None, march.number),
    ]


def test_p4_a_balance_that_covers_the_invoice_pays_it_without_a_charge(cafe: Cafe) -> None:
    february = cafe.world.invoices("cafe")[0]
    note(cafe, february)  # all of February back as credit: EUR 29
    cafe.day(3, 1)
    march = cafe.world.invoices("cafe")[-1]
    assert (march.credit_applied_minor, march.state) == (2900, "paid")
    assert march.settlement_note == "paid from the credit balance"
    assert [c["amount"] for c in cafe.charges()] == [2900]  # March charged nothing
    assert cafe.events("invoice.paid") == 2
    assert (credit(cafe), cafe.status().state) == (0, "ok")


def test_p4_the_operator_may_refund_instead_once(cafe: Cafe) -> None:
    february = cafe.world.invoices("cafe")[0]
    refunded = note(cafe, february, amounts={0: "7.25"}, settle="refund")
    done = refund_note(cafe.collector, number=refunded.number)
    assert (refunded.settled_as, done.state, done.amount_minor) == ("refund", "succeeded", 725)
    assert credit(cafe) == 0  # nothing kept: it went back to the card
    assert refund_note(cafe.collector, number=refunded.number) == done  # asked again: the same

    kept = note(cafe, february, amounts={0: "5"})  # kept as credit, refunded later after all
    assert credit(cafe) == 500
    assert refund_note(cafe.collector, number=kept.number).amount_minor == 500
    assert credit(cafe) == 0
    assert moves(cafe) == [
        ("credit_note", 500, kept.number, None),
        ("refunded", -500, kept.number, None),
    ]


def test_p4_credit_taken_by_an_invoice_can_no_longer_be_refunded(cafe: Cafe) -> None:
    february = cafe.world.invoices("cafe")[0]
    kept = note(cafe, february, amounts={0: "10"})
    cafe.day(3, 1)  # March takes the EUR 10
    with pytest.raises(Conflict) as refused:
        refund_note(cafe.collector, number=kept.number)
    assert refused.value.code == "credit_already_applied"
    assert [c["amount"] for c in cafe.charges()] == [2900, 1900]


def test_p4_refund_is_refused_for_what_no_card_paid(cafe: Cafe) -> None:
    cafe.card(DECLINES)
    cafe.day(3, 1)  # March declined: owed
    march = cafe.world.invoices("cafe")[-1]
    with pytest.raises(Conflict) as refused:  # it only lowers what March asks for
        note(cafe, march, amounts={0: "4"}, settle="refund")
    assert refused.value.code == "credit_note_not_charged"
    assert len(invoice_repo_notes(cafe, march)) == 0  # refused whole: no note either
    lowered = note(cafe, march, amounts={0: "4"})
    assert (lowered.settled_as, lowered.settled_minor, credit(cafe)) == (None, 0, 0)
    assert [str(m.amount) for m in cafe.status().past_due] == ["25.00"]


def invoice_repo_notes(cafe: Cafe, invoice: InvoiceRow) -> list[CreditNoteRow]:
    with cafe.db.read() as conn:
        return invoice_repo.credit_notes_of(conn, invoice.id)


def test_p4_a_note_on_an_invoice_paid_partly_from_credit_gives_that_credit_back(
    cafe: Cafe,
) -> None:
    february = cafe.world.invoices("cafe")[0]
    note(cafe, february, amounts={0: "10"})
    cafe.card(DECLINES)
    cafe.day(3, 1)  # March: EUR 10 from the balance, the card declines the EUR 19 left
    march = cafe.world.invoices("cafe")[-1]
    assert (march.credit_applied_minor, cafe.state()) == (1000, "past_due")
    assert [str(m.amount) for m in cafe.status().past_due] == ["19.00"]
    waived = note(cafe, march)  # all of March taken back: the EUR 10 was money paid
    assert (waived.total_minor, waived.settled_as, waived.settled_minor) == (2900, "balance", 1000)
    assert credit(cafe) == 1000
    cafe.collector.round(50)  # nothing is owed now: not past due, nothing charged
    assert (cafe.state(), cafe.status().state) == ("active", "ok")
    assert [c["amount"] for c in cafe.charges()][1:] == [1900]  # the one declined try


def test_p4_a_charge_in_flight_when_a_note_lands_keeps_the_difference_as_credit(
    cafe: Cafe,
) -> None:
    """The round records EUR 29 to charge; before the provider answers, the operator takes
    EUR 10 off March. The card paid EUR 29 of an invoice that asks for EUR 19: EUR 10 is the
    café's credit, not lost."""

    class NoteMidCharge(SandboxGateway):
        def charge(self, **kw: object) -> Outcome:
            note(cafe, cafe.world.invoices("cafe")[-1], amounts={0: "10"})
            return super().charge(**kw)  # type: ignore[arg-type]

    cafe.world.at(KYIV, 2026, 3, 1, 9)
    cafe.world.bill()
    dataclasses.replace(cafe.collector, gateway=NoteMidCharge(cafe.sandbox.path)).round(50)
    march = cafe.world.invoices("cafe")[-1]
    assert march.state == "paid"
    assert [c["amount"] for c in cafe.charges()] == [2900, 2900]
    assert credit(cafe) == 1000
    assert [m[0] for m in moves(cafe)] == ["overpayment"]
    cafe.day(4, 1)  # and April takes it
    assert [c["amount"] for c in cafe.charges()][-1] == 1900


def test_p4_a_rolled_back_note_leaves_no_credit(cafe: Cafe) -> None:
    february = cafe.world.invoices("cafe")[0]

    def fails_after_the_note() -> None:
        with cafe.db.transaction() as conn:
            refunds.credit_note(
                conn, cafe.world.clock, invoice_id=february.id, reason="x", amounts=None,
                issued_on=february.issued_on, settle=None,
            )  # fmt: skip
            raise RuntimeError("the request failed after the note")

    with pytest.raises(RuntimeError):
        fails_after_the_note()
    assert (credit(cafe), moves(cafe), invoice_repo_notes(cafe, february)) == (0, [], [])


def test_p4_the_database_refuses_a_balance_below_zero(cafe: Cafe) -> None:
    with pytest.raises(sa.exc.IntegrityError), cafe.db.transaction() as conn:
        account_repo.add_credit_balance(conn, "cafe", -1)
    assert credit(cafe) == 0


def test_p4_a_refund_the_provider_refuses_is_credit_again(cafe: Cafe) -> None:
    """Someone refunded EUR 25 of February in the provider's dashboard; the operator's refund
    of a EUR 10 note is then more than the provider has left, and is refused: the EUR 10 is
    the café's credit, not lost."""
    paid = next(c for c in cafe.charges() if c["status"] == "succeeded")
    cafe.sandbox.refund(provider_ref=str(paid["ref"]), amount_minor=2500, key="dashboard")
    february = cafe.world.invoices("cafe")[0]
    refused = note(cafe, february, amounts={0: "10"}, settle="refund")
    done = refund_note(cafe.collector, number=refused.number)
    assert done.state == "failed"
    assert cafe.events("payment.refund_failed") == 1
    assert credit(cafe) == 1000
    assert moves(cafe) == [("refund_failed", 1000, refused.number, None)]
    with cafe.db.read() as conn:
        assert invoice_repo.credit_notes_of(conn, february.id)[0].settled_as == "balance"
    cafe.day(3, 1)  # March takes it
    assert [c["amount"] for c in cafe.charges()][-1] == 1900


def test_p4_voiding_an_invoice_gives_back_the_credit_taken_off_it(cafe: Cafe) -> None:
    from allot.invoice import service as invoice_service

    february = cafe.world.invoices("cafe")[0]
    note(cafe, february, amounts={0: "10"})
    cafe.card(DECLINES)
    cafe.day(3, 1)  # March: EUR 10 from the balance, the rest declined
    march = cafe.world.invoices("cafe")[-1]
    assert (march.credit_applied_minor, credit(cafe)) == (1000, 0)
    with cafe.db.transaction() as conn:
        invoice_service.void(conn, cafe.world.clock, invoice_id=march.id, reason="a mistake")
    assert credit(cafe) == 1000
    assert [m[:2] for m in moves(cafe)][-1] == ("unapplied", 1000)


def test_p4_the_csv_export_shows_the_credit_taken_off_an_invoice(cafe: Cafe) -> None:
    from allot.invoice import service as invoice_service

    note(cafe, cafe.world.invoices("cafe")[0], amounts={0: "10"})
    cafe.day(3, 1)
    march = cafe.world.invoices("cafe")[-1]
    rows = invoice_service.to_csv([march]).splitlines()
    assert rows[-1].split(",")[5:10] == [
        "credit_applied", "Credit applied from the balance", "1", "-10.00", "-10.00",
    ]  # fmt: skip
