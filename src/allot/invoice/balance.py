"""The account's credit balance (P4): money it paid and is owed back, taken off its next
invoices.

Credit comes in two ways:

* a credit note on an invoice that was paid gives back money: that part of it
  (`settled_part`) is refunded to the card or kept as credit, the operator's choice per
  note; what a note takes off an invoice not yet paid only lowers what it asks for;
* a charge that took more than was owed when it landed (a credit note was issued while it
  was in flight) keeps the difference as credit.

It goes out when an invoice is issued: the balance is taken off its total, tax included —
after tax, because the balance is money paid, tax and all (as a customer balance is in
Stripe) — up to the total; an invoice the balance covers in full is paid at once. Or back
to the card: a note kept as credit can still be refunded while the balance holds it (and a
refund the provider refuses makes it credit again).

    >>> settled_part(total_minor=2900, owed_minor=0)       # a paid €29: all of it was paid
    2900
    >>> settled_part(total_minor=2900, owed_minor=1900)    # €10 of it had come from credit
    1000
    >>> settled_part(total_minor=500, owed_minor=1900)     # only lowers what is owed
    0

Every move is an entry of `credit_balance_entries`; `accounts.credit_balance_minor`, which
the invoice run reads with the account, is their sum (DESIGN 6; `allot verify` checks it).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from allot.account import repository as account_repo
from allot.core.errors import Conflict
from allot.core.money import Money
from allot.invoice import repository as repo
from allot.invoice.models import BalanceMove, NoteSettlement
from allot.invoice.repository import CreditNoteRow, InvoiceRow
from allot.kit.clock import Clock


def settled_part(*, total_minor: int, owed_minor: int) -> int:
    """What of a credit note of `total_minor` gives back money paid, when the invoice still
    asked for `owed_minor` (0 once paid): what it takes past what is owed."""
    return max(0, total_minor - max(owed_minor, 0))


def owed_before_note(conn: Connection, invoice: InvoiceRow) -> int:
    """What the invoice asks for as a new note is written: nothing once it is paid."""
    return 0 if invoice.state == "paid" else repo.owed_minor(conn, invoice.id)


def keep(conn: Connection, clock: Clock, *, account_id: str, note_id: int, amount: int) -> None:
    """A note's paid part becomes the account's credit."""
    _move(conn, clock, account_id, BalanceMove.CREDIT_NOTE, amount, credit_note_id=note_id)


def overpaid(
    conn: Connection, clock: Clock, *, account_id: str, invoice_id: int, amount: int
) -> None:
    """A charge took `amount` more than the invoice asked for when it landed."""
    if amount > 0:
        _move(conn, clock, account_id, BalanceMove.OVERPAYMENT, amount, invoice_id=invoice_id)


def to_apply(
    conn: Connection, *, account_id: str | None, balance_hint: int, total_minor: int
) -> int:
    """What of the balance a new invoice of `total_minor` takes. `balance_hint` is the
    account's balance as last read (the run's account row): at 0 nothing more is read;
    otherwise the row is read again, in the invoice's transaction."""
    if account_id is None or balance_hint <= 0 or total_minor <= 0:
        return 0
    account = account_repo.get(conn, account_id)
    assert account is not None
    return min(account.credit_balance_minor, total_minor)


def applied(
    conn: Connection, clock: Clock, *, account_id: str, invoice_id: int, amount: int
) -> None:
    """The balance taken off a new invoice (`to_apply`)."""
    if amount > 0:
        _move(conn, clock, account_id, BalanceMove.APPLIED, -amount, invoice_id=invoice_id)


def unapplied(
    conn: Connection, clock: Clock, *, account_id: str, invoice_id: int, amount: int
) -> None:
    """An invoice voided after the balance was taken off it: that credit comes back."""
    if amount > 0:
        _move(conn, clock, account_id, BalanceMove.UNAPPLIED, amount, invoice_id=invoice_id)


def to_refund(conn: Connection, clock: Clock, *, note: CreditNoteRow, currency: str) -> None:
    """A note kept as credit is to be refunded after all: its credit leaves the balance, if
    the balance still holds it (none of it taken off an invoice since)."""
    assert note.settled_as == NoteSettlement.BALANCE
    account_id = _account_of(conn, note)
    account = account_repo.get(conn, account_id)
    assert account is not None
    if account.credit_balance_minor < note.settled_minor:
        left = Money.from_minor(account.credit_balance_minor, currency).amount
        raise Conflict(
            "credit_already_applied",
            f"{note.number} was kept as credit, and only {left} {currency} of the balance is "
            "left: the rest was taken off later invoices",
            field="number",
        )
    repo.settle_note_as(conn, note.id, settled_as=NoteSettlement.REFUND, was=NoteSettlement.BALANCE)
    _move(
        conn, clock, account_id, BalanceMove.REFUNDED, -note.settled_minor, credit_note_id=note.id
    )


def refund_refused(conn: Connection, clock: Clock, *, note: CreditNoteRow) -> None:
    """The provider refused to refund a note: what it gives back is the account's credit
    after all (nothing paid is lost), and the note says so."""
    if repo.settle_note_as(
        conn, note.id, settled_as=NoteSettlement.BALANCE, was=NoteSettlement.REFUND
    ):
        _move(
            conn,
            clock,
            _account_of(conn, note),
            BalanceMove.REFUND_FAILED,
            note.settled_minor,
            credit_note_id=note.id,
        )


def mismatches(conn: Connection) -> list[tuple[str, int, int]]:
    """(account, balance on its row, sum of its entries) wherever the two differ."""
    sums = repo.balance_sums(conn)
    rows = account_repo.credit_balances(conn)
    return [
        (account_id, rows.get(account_id, 0), sums.get(account_id, 0))
        for account_id in sorted(set(rows) | set(sums))
        if rows.get(account_id, 0) != sums.get(account_id, 0)
    ]


def _account_of(conn: Connection, note: CreditNoteRow) -> str:
    invoice = repo.get(conn, note.invoice_id)
    assert invoice is not None
    assert invoice.account_id is not None
    return invoice.account_id


def _move(
    conn: Connection,
    clock: Clock,
    account_id: str,
    move: BalanceMove,
    amount: int,
    *,
    credit_note_id: int | None = None,
    invoice_id: int | None = None,
) -> None:
    repo.insert_balance_entry(
        conn,
        account_id=account_id,
        move=move,
        amount_minor=amount,
        at=clock.now(),
        credit_note_id=credit_note_id,
        invoice_id=invoice_id,
    )
    account_repo.add_credit_balance(conn, account_id, amount)
