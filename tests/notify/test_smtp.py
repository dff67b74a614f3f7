"""The e-mail outbox sent to a real local SMTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from allot.core.errors import InvalidInput
from allot.kit.backoff import RETRY_DELAYS
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.notify import repository as repo
from allot.notify.letters import Letter
from allot.notify.models import EmailKind
from allot.notify.repository import EmailRow
from allot.notify.service import queue_email
from allot.notify.smtp import SmtpSettings, send_due
from tests.mailserver import MailServer, free_port

SENDER = "Corner Billing <billing@platform.example>"


def smtp(server: MailServer) -> SmtpSettings:
    return SmtpSettings.from_url(server.url, sender=SENDER)


def queue(db: Database, clock: FixedClock, to: str = "owner@cafe.example") -> EmailRow:
    with db.transaction() as conn:
        return queue_email(
            conn,
            clock,
            kind=EmailKind.ACTIVATION_LINK,
            to=to,
            letter=Letter("Your Access Code", "Привіт! Hello.\n", "<p>Привіт! Hello.</p>"),
            reply_to="agency-1@example.com",
        )


def row(db: Database, email_id: int) -> EmailRow:
    with db.read() as conn:
        found = repo.get(conn, email_id)
    assert found is not None
    return found


def test_a_queued_e_mail_is_sent_once_with_its_headers(
    db: Database, clock: FixedClock, mail_server: MailServer
) -> None:
    queued = queue(db, clock)
    assert queued.state == "pending"
    assert send_due(db, clock, smtp=smtp(mail_server)) == 1
    assert send_due(db, clock, smtp=smtp(mail_server)) == 0  # nothing twice
    (message,) = mail_server.received
    assert message["From"] == SENDER
    assert message["To"] == "owner@cafe.example"
    assert message["Reply-To"] == "agency-1@example.com"
    assert message["Subject"] == "Your Access Code"
    assert message["Message-ID"] == f"<{queued.message_key}@platform.example>"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content() == "Привіт! Hello.\n"
    assert html.get_content_type() == "text/html"
    assert html.get_content() == "<p>Привіт! Hello.</p>\n"
    assert mail_server.envelopes == [("billing@platform.example", ["owner@cafe.example"])]
    sent = row(db, queued.id)
    assert (sent.state, sent.attempts, sent.sent_at) == ("sent", 1, clock.now())


def test_a_server_that_is_down_gets_the_message_later_on_the_backoff_schedule(
    db: Database, clock: FixedClock, mail_server: MailServer
) -> None:
    settings = smtp(mail_server)
    mail_server.stop()
    queued = queue(db, clock)
    assert send_due(db, clock, smtp=settings) == 1
    waiting = row(db, queued.id)
    assert waiting.state == "pending"
    assert waiting.next_attempt_at == clock.now() + RETRY_DELAYS[0]
    assert waiting.last_error is not None
    assert "cannot reach 127.0.0.1" in waiting.last_error
    assert send_due(db, clock, smtp=settings) == 0  # not due yet
    mail_server.start()
    clock.advance(RETRY_DELAYS[0])
    assert send_due(db, clock, smtp=settings) == 1
    assert row(db, queued.id).state == "sent"
    assert len(mail_server.received) == 1


def test_a_mailbox_refused_for_good_fails_at_once_and_the_others_still_go(
    db: Database, clock: FixedClock, mail_server: MailServer
) -> None:
    bounced = queue(db, clock, "nobody@bounce.example")
    busy = queue(db, clock, "owner@later.example")
    fine = queue(db, clock, "owner@cafe.example")
    assert send_due(db, clock, smtp=smtp(mail_server)) == 3
    failed, later, sent = (row(db, e.id) for e in (bounced, busy, fine))
    assert (failed.state, failed.next_attempt_at) == ("failed", None)
    assert failed.last_error is not None
    assert "550" in failed.last_error
    assert later.state == "pending"  # 451: try again
    assert later.next_attempt_at == clock.now() + RETRY_DELAYS[0]
    assert sent.state == "sent"
    assert [m["To"] for m in mail_server.received] == ["owner@cafe.example"]


def test_after_about_three_days_of_refusals_the_message_fails(
    db: Database, clock: FixedClock, mail_server: MailServer
) -> None:
    queued = queue(db, clock, "owner@later.example")
    for delay in RETRY_DELAYS:
        assert send_due(db, clock, smtp=smtp(mail_server)) == 1
        assert row(db, queued.id).state == "pending"
        clock.advance(delay)
    assert send_due(db, clock, smtp=smtp(mail_server)) == 1
    gave_up = row(db, queued.id)
    assert (gave_up.state, gave_up.attempts) == ("failed", len(RETRY_DELAYS) + 1)


def test_a_leased_message_is_not_sent_by_a_second_worker_until_its_lease_runs_out(
    db: Database, clock: FixedClock, mail_server: MailServer
) -> None:
    queued = queue(db, clock)
    with db.transaction() as conn:
        leased = repo.lease_due(
            conn, now=clock.now(), until=clock.now() + timedelta(minutes=5), limit=10
        )
    assert [e.id for e in leased] == [queued.id]  # a worker took it, then died
    assert send_due(db, clock, smtp=smtp(mail_server)) == 0
    clock.advance(timedelta(minutes=5))
    assert send_due(db, clock, smtp=smtp(mail_server)) == 1
    assert row(db, queued.id).state == "sent"


@pytest.mark.parametrize(
    ("to", "field"),
    [("not-an-address", "to"), ("", "to"), ("a@b.example\r\nBcc: x@y.example", "to")],
)
def test_a_bad_address_is_refused_and_nothing_is_queued(
    db: Database, clock: FixedClock, to: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused, db.transaction() as conn:
        queue_email(
            conn, clock, kind=EmailKind.ACTIVATION_LINK, to=to, letter=Letter("Hi", "x", "")
        )
    assert (refused.value.code, refused.value.field) == ("invalid_email", field)
    with db.read() as conn:
        assert repo.counts(conn) == {}


@pytest.mark.parametrize(
    ("url", "host", "port", "security", "user"),
    [
        ("smtp://127.0.0.1:2525", "127.0.0.1", 2525, "none", None),
        ("smtp://mail.example.com", "mail.example.com", 25, "none", None),
        (
            "smtp://u%40x:p%3Aw@mail.example.com?starttls=true",
            "mail.example.com",
            587,
            "starttls",
            "u@x",
        ),
        ("smtps://mail.example.com", "mail.example.com", 465, "tls", None),
    ],
)
def test_smtp_url_forms(url: str, host: str, port: int, security: str, user: str | None) -> None:
    s = SmtpSettings.from_url(url)
    assert (s.host, s.port, s.security, s.username) == (host, port, security, user)


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.com",
        "smtp://",
        "smtp://h?tls=1",
        "smtp://h?starttls=maybe",
        "smtp://h:x",
    ],
)
def test_a_bad_smtp_url_is_named(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        SmtpSettings.from_url(url)
    assert (refused.value.code, refused.value.field) == ("invalid_smtp_url", "ALLOT_SMTP_URL")


def test_a_bad_sender_is_named() -> None:
    with pytest.raises(InvalidInput) as refused:
        SmtpSettings.from_url(f"smtp://127.0.0.1:{free_port()}", sender="billing")
    assert refused.value.field == "ALLOT_MAIL_FROM"


def test_a_message_that_cannot_be_built_fails_alone_and_the_round_goes_on(
    db: Database, clock: FixedClock, mail_server: MailServer
) -> None:
    with db.transaction() as conn:  # past queue_email's checks, as an old row might be
        broken = repo.insert(
            conn,
            kind=EmailKind.ACTIVATION_LINK,
            to_address="owner@cafe.example",
            subject="Hi\r\nBcc: everyone@example.com",
            body="x",
            message_key="k1",
            next_attempt_at=clock.now(),
            created_at=clock.now(),
        )
    fine = queue(db, clock)
    assert send_due(db, clock, smtp=smtp(mail_server)) == 2
    failed = row(db, broken)
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.last_error is not None
    assert failed.last_error.startswith("cannot build the message")
    assert row(db, fine.id).state == "sent"
    assert [m["Subject"] for m in mail_server.received] == ["Your Access Code"]


def test_a_kind_the_outbox_does_not_name_is_refused_and_nothing_is_queued(
    db: Database, clock: FixedClock
) -> None:
    with pytest.raises(InvalidInput) as refused, db.transaction() as conn:
        queue_email(conn, clock, kind="newsletter", to="a@b.example", letter=Letter("Hi", "x", ""))  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.field) == ("invalid_email_kind", "kind")
    with db.read() as conn:
        assert repo.counts(conn) == {}
