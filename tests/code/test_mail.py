"""K2: the partner e-mails an activation link for one of its codes. The message is queued in the
caller's transaction (the outbox) and carries the link and the code; a code that is claimed,
revoked or ended, or was sent too often, is not sent again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Connection

from allot.code.mail import (
    DEFAULT_LINK,
    MAX_NOTE,
    MAX_PER_CODE,
    code_emails,
    email_activation_link,
    require_email,
)
from allot.code.service import claim_code, issue_code, revoke_code
from allot.core.codes import display
from allot.core.errors import Conflict, DomainError, InvalidInput, NotFound, Refused
from allot.grant.repository import GrantRow
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.notify.models import emails
from allot.notify.repository import EmailRow
from tests.domains import (
    add_account,
    add_partner,
    count,
    read,
    refusal,
    refused_before_writing,
    run,
)
from tests.factories import load


@pytest.fixture
def world(db: Database, clock: FixedClock) -> Database:
    load(db, clock)
    add_partner(db, clock, "brew")
    add_partner(db, clock, "pos", contact="Call Olena on +380 44 000 0000")
    add_account(db, clock, "cafe")
    return db


def issue(db: Database, clock: FixedClock, partner: str = "brew", **kw: datetime) -> GrantRow:
    return run(
        db,
        lambda conn: issue_code(
            conn,
            clock,
            partner_id=partner,
            allowances={"staff_seats": 36, "card_operations": 1800},
            **kw,
        ),
    )


def send(
    db: Database,
    clock: FixedClock,
    number: int = 1,
    *,
    partner: str = "brew",
    to: str = "owner@cafe.example",
    link_template: str = DEFAULT_LINK,
    note: str | None = None,
) -> EmailRow:
    return run(
        db,
        lambda conn: email_activation_link(
            conn,
            clock,
            partner_id=partner,
            number=number,
            to=to,
            link_template=link_template,
            note=note,
        ),
    )


def mail_refusal(db: Database, clock: FixedClock, **kw: object) -> DomainError:
    values: dict[str, object] = {"partner_id": "brew", "number": 1, "to": "a@b.example", **kw}

    def call(conn: Connection) -> object:
        return email_activation_link(conn, clock, **values)  # type: ignore[arg-type]

    return refused_before_writing(db, call)


def test_k2_the_activation_email_carries_the_link_the_code_and_the_package(
    world: Database, clock: FixedClock
) -> None:
    code = issue(world, clock)
    assert code.code is not None
    mail = send(
        world,
        clock,
        link_template="https://app.example/billing?activate={code}",
        note="  Welcome aboard!  ",
    )
    assert (mail.kind, mail.to_address, mail.state, mail.grant_id, mail.partner_id) == (
        "activation_link",
        "owner@cafe.example",
        "pending",
        code.id,
        "brew",
    )
    assert mail.subject == "Brew Consultants sent you an Access Code"
    assert mail.reply_to == "hello@brew.example"
    assert f"https://app.example/billing?activate={display(code.code)}\n" in mail.body
    assert f"type the code on your billing page: {display(code.code)}" in mail.body
    assert "  - Card operations: 1,800 per month" in mail.body
    assert "  - Staff seats: 36 per month" in mail.body
    assert "It does not expire" in mail.body
    assert "A note from Brew Consultants:\nWelcome aboard!\n" in mail.body
    assert mail.next_attempt_at == clock.now()


def test_k2_the_default_link_and_a_partner_contact_that_is_no_address(
    world: Database, clock: FixedClock
) -> None:
    code = issue(world, clock, partner="pos")
    assert code.code is not None
    mail = send(world, clock, partner="pos")
    assert DEFAULT_LINK.replace("{code}", display(code.code)) in mail.body
    assert mail.reply_to is None
    assert "A note from" not in mail.body


def test_k3_a_fixed_term_codes_email_says_until_when(world: Database, clock: FixedClock) -> None:
    issue(
        world,
        clock,
        starts_at=datetime(2026, 2, 1, tzinfo=UTC),
        ends_at=datetime(2026, 7, 31, 22, 0, tzinfo=UTC),
    )
    body = send(world, clock).body
    assert "valid from February 1, 2026 (UTC) until July 31, 2026 (UTC)" in body


def test_k2_emails_of_a_code_are_listed_oldest_first_with_their_state(
    world: Database, clock: FixedClock
) -> None:
    issue(world, clock)
    first = send(world, clock, to="one@cafe.example")
    clock.advance(timedelta(minutes=5))
    second = send(world, clock, to="Two@Cafe.Example")
    listed = read(world, lambda conn: code_emails(conn, partner_id="brew", number=1))
    assert [(m.id, m.to_address) for m in listed] == [
        (first.id, "one@cafe.example"),
        (second.id, "Two@cafe.example"),  # the domain is normalized, not the local part
    ]
    error = refused_before_writing(
        world, lambda conn: code_emails(conn, partner_id="pos", number=1)
    )
    assert refusal(error) == (NotFound, "code_not_found", "number")


def test_k2_a_code_is_emailed_at_most_five_times(world: Database, clock: FixedClock) -> None:
    issue(world, clock)
    for n in range(MAX_PER_CODE):
        send(world, clock, to=f"try{n}@cafe.example")
    error = mail_refusal(world, clock)
    assert refusal(error) == (Refused, "too_many_emails", "number")
    assert count(world, emails) == MAX_PER_CODE


def test_k2_a_claimed_or_revoked_code_is_not_emailed(world: Database, clock: FixedClock) -> None:
    claimed, _revoked = issue(world, clock), issue(world, clock)
    assert claimed.code is not None
    run(world, lambda conn: claim_code(conn, clock, account_id="cafe", code=claimed.code or ""))
    run(world, lambda conn: revoke_code(conn, clock, partner_id="brew", number=2))
    for number in (1, 2):
        error = mail_refusal(world, clock, number=number)
        assert refusal(error) == (Conflict, "code_not_available", "number")


def test_k3_a_code_that_has_ended_is_not_emailed(world: Database, clock: FixedClock) -> None:
    ends = clock.now() + timedelta(hours=1)
    issue(world, clock, ends_at=ends)
    send(world, clock)  # still valid
    clock.set(ends)
    assert refusal(mail_refusal(world, clock)) == (Conflict, "code_ended", "number")


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"partner_id": "ghost"}, (NotFound, "partner_not_found", "partner_id")),
        ({"number": 7}, (NotFound, "code_not_found", "number")),
        ({"note": "x" * (MAX_NOTE + 1)}, (InvalidInput, "invalid_note", "note")),
        (
            {"link_template": "https://app.example/billing"},
            (InvalidInput, "invalid_activation_link", "ALLOT_ACTIVATION_LINK"),
        ),
        ({"to": "not an address"}, (InvalidInput, "invalid_email", "to")),
        ({"to": ""}, (InvalidInput, "invalid_email", "to")),
    ],
)
def test_k2_email_refusals_name_their_field_and_queue_nothing(
    world: Database, clock: FixedClock, kw: dict[str, object], expected: tuple[object, ...]
) -> None:
    issue(world, clock)
    assert refusal(mail_refusal(world, clock, **kw)) == expected


def test_k2_a_note_of_the_longest_length_is_sent(world: Database, clock: FixedClock) -> None:
    issue(world, clock)
    assert ("y" * MAX_NOTE) in send(world, clock, note="y" * MAX_NOTE).body


def test_k2_without_smtp_the_operator_is_told_to_configure_it() -> None:
    require_email(True)
    with pytest.raises(Refused) as caught:
        require_email(False)
    assert (caught.value.code, caught.value.field) == ("email_not_configured", None)
