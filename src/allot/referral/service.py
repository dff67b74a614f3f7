"""Referral use cases (A4).

The operator switches referral on for an account; the account then has a
personal link carrying its code. A business that signs up through the link is
attributed to it (once, and never to itself). When that business pays its
first paid invoice, the referrer earns the reward its product line sets in the
catalog, in that invoice's currency; the reward is then credited, as a
negative line, on the referrer's next invoices until it is used up (a credit
never takes an invoice below zero: what does not fit waits for the next one).

    A referral_reward of "29" on the stamp-card line; Bakery signs up with
    Café's code, pays its first €29 invoice → Café earns €29.00; Café's next
    invoice of €29.00 carries "Referral reward: Bakery  −29.00" and totals €0.00.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Connection

from allot import audit
from allot.account import repository as account_repo
from allot.account.service import get_account
from allot.catalog import repository as catalog_repo
from allot.core.codes import ENTROPY_BYTES, display, format_code, is_well_formed, link, normalize
from allot.core.errors import Conflict, InvalidInput, NotFound
from allot.core.invoicing import Charge, ChargeKind
from allot.core.money import Money
from allot.kit.clock import Clock
from allot.kit.i18n import gettext, language
from allot.referral import repository as repo
from allot.referral.repository import ProgramRow, ReferralRow
from allot.webhook.service import emit

DEFAULT_LINK = "/signup?ref={code}"


@dataclass(frozen=True, slots=True)
class ReferralPage:
    """What an account sees of its referral program."""

    program: ProgramRow
    link: str
    referred: list[ReferralRow]
    earned_minor: int
    applied_minor: int

    @property
    def code(self) -> str:
        return display(self.program.code)

    @property
    def balance_minor(self) -> int:
        return self.earned_minor - self.applied_minor


def link_for(code: str, template: str = DEFAULT_LINK) -> str:
    """The referral link: the platform's sign-up page with the code (`ALLOT_REFERRAL_LINK`)."""
    return link(template, code)


def enable_referral(conn: Connection, clock: Clock, *, account_id: str) -> ProgramRow:
    """Switch referral on; the account keeps the code it had if it was on before."""
    get_account(conn, account_id, lock=True)
    program = repo.program_of(conn, account_id)
    was = None if program is None else {"enabled": program.enabled}
    if program is None:
        repo.insert_program(
            conn,
            account_id=account_id,
            code=normalize(format_code(secrets.token_bytes(ENTROPY_BYTES))),
            at=clock.now(),
        )
    elif not program.enabled:
        repo.set_enabled(conn, account_id, enabled=True, at=clock.now())
    _log(conn, clock, account_id, was, enabled=True)
    return get_program(conn, account_id=account_id)


def _log(conn: Connection, clock: Clock, account_id: str, was: object, *, enabled: bool) -> None:
    audit.record(
        conn, clock, change="referral.enabled" if enabled else "referral.disabled",
        subject_kind="referral", subject_id=account_id, account_id=account_id,
        before=was, after={"enabled": enabled},
    )  # fmt: skip


def disable_referral(conn: Connection, clock: Clock, *, account_id: str) -> ProgramRow:
    """Stop attributing new sign-ups; rewards already earned are still credited."""
    get_account(conn, account_id, lock=True)
    program = get_program(conn, account_id=account_id)
    if program.enabled:
        repo.set_enabled(conn, account_id, enabled=False, at=clock.now())
    _log(conn, clock, account_id, {"enabled": program.enabled}, enabled=False)
    return get_program(conn, account_id=account_id)


def get_program(conn: Connection, *, account_id: str) -> ProgramRow:
    program = repo.program_of(conn, account_id)
    if program is None:
        get_account(conn, account_id)  # an unknown account says so first
        raise NotFound(
            "referral_not_enabled",
            f"referral is not switched on for account {account_id!r}",
            field="account_id",
        )
    return program


def referral_page(
    conn: Connection, *, account_id: str, link_template: str = DEFAULT_LINK
) -> ReferralPage:
    program = get_program(conn, account_id=account_id)
    referred = repo.referred_by(conn, account_id)
    return ReferralPage(
        program=program,
        link=link_for(program.code, link_template),
        referred=referred,
        earned_minor=sum(r.reward_minor or 0 for r in referred),
        applied_minor=sum(r.applied_minor for r in referred),
    )


def attribute(conn: Connection, clock: Clock, *, account_id: str, code: str) -> ReferralRow:
    """Record that `account_id` signed up through the link carrying `code`."""
    if not isinstance(code, str) or not is_well_formed(code):
        raise InvalidInput(
            "invalid_referral_code",
            "not a referral code: check it for a typo (the last symbol is a check symbol)",
            field="referral_code",
        )
    account = get_account(conn, account_id, lock=True)
    program = repo.program_by_code(conn, normalize(code))
    if program is None or not program.enabled:
        raise NotFound(
            "referral_code_not_found", "no referral program has this code", field="referral_code"
        )
    if program.account_id == account_id:
        raise Conflict("self_referral", "an account cannot refer itself", field="referral_code")
    referrer = get_account(conn, program.account_id)
    if referrer.currency != account.currency:
        raise Conflict(
            "referral_currency_mismatch",
            f"the referrer bills in {referrer.currency}, this account in {account.currency}: "
            "a reward is credited in the currency it was earned in",
            field="referral_code",
        )
    if repo.referral_of(conn, account_id) is not None:
        raise Conflict(
            "already_referred", f"account {account_id!r} was already referred", field="account_id"
        )
    repo.insert_referral(
        conn,
        referred=account_id,
        referrer=program.account_id,
        code=program.code,
        currency=account.currency,
        at=clock.now(),
    )
    found = repo.referral_of(conn, account_id)
    assert found is not None
    return found


def invoice_paid(
    conn: Connection,
    clock: Clock,
    *,
    account_id: str,
    invoice_id: int,
    total_minor: int,
    currency: str,
    subscription_id: int | None,
) -> ReferralRow | None:
    """Earn the referrer's reward if this is the referred account's first paid invoice.

    An invoice that asked for nothing (a total of zero) is not a paid invoice.
    The reward is the catalog's `referral_reward` of the invoice's product line;
    a line without one closes the referral with a reward of zero.
    """
    referral = repo.referral_of(conn, account_id, lock=True)
    if referral is None or referral.earned_at is not None or total_minor <= 0:
        return None
    reward = Decimal(0)
    line_code = None if subscription_id is None else repo.product_line_of(conn, subscription_id)
    line = None if line_code is None else catalog_repo.get_product_line(conn, line_code)
    if line is not None and line.referral_reward is not None:
        reward = line.referral_reward
    reward_minor = Money.of(reward, currency).rounded().to_minor()
    if not repo.earn(
        conn, account_id, reward_minor=reward_minor, invoice_id=invoice_id, at=clock.now()
    ):
        return None
    account_repo.add_referral_credit(conn, referral.referrer_account_id, reward_minor)
    earned = repo.referral_of(conn, account_id)
    assert earned is not None
    emit(
        conn,
        clock,
        type="referral.reward_earned",
        account_id=earned.referrer_account_id,
        payload={
            "referrer_account_id": earned.referrer_account_id,
            "referred_account_id": account_id,
            "invoice_id": invoice_id,
            "currency": currency,
            "reward": str(Money.from_minor(reward_minor, currency).amount),
        },
    )
    return earned


def credit_lines(
    conn: Connection, *, account_id: str, currency: str, up_to_minor: int
) -> list[Charge]:
    """Credit earned rewards on an invoice of `up_to_minor` before tax, oldest reward first.

    Runs in the transaction that issues the invoice, so a rollback gives the
    credit back with the invoice.
    """
    charges: list[Charge] = []
    room = up_to_minor
    rows = repo.unapplied(conn, account_id, currency)
    if not rows:
        return charges
    account = account_repo.get(conn, account_id)  # the lines in its language (W2)
    lang = account.locale if account is not None else None
    _ = gettext(language(lang))
    for row in rows:
        if room <= 0:
            break
        assert row.reward_minor is not None
        take = min(row.reward_minor - row.applied_minor, room)
        repo.apply(conn, row.referred_account_id, take)
        amount = -Money.from_minor(take, currency).amount
        charges.append(
            Charge(
                ChargeKind.REFERRAL_CREDIT,
                _("Referral reward: %(name)s", name=row.referred_name),
                1,
                amount,
                amount,
            )
        )
        room -= take
    if room != up_to_minor:
        account_repo.add_referral_credit(conn, account_id, room - up_to_minor)
    return charges
