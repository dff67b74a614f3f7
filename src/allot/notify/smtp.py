"""Sending the outbox over SMTP: lease what is due, one session per round, record each try.

As with webhooks, no transaction is open while the mail server is talked to:
one transaction leases up to `limit` due messages, one SMTP session sends
them, and one transaction per message records the outcome. A worker that
dies mid-round loses nothing: its leases run out and another worker sends
again (at least once; every try carries the same Message-ID).

What the server says decides what happens next: accepted → sent; a 5xx
refusal of the recipient or of the message → failed at once (trying again
cannot help); anything else (no connection, a 4xx, a login refused, a
timeout) → the next try on the backoff schedule, then failed.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from allot.core.errors import InvalidInput
from allot.kit.backoff import next_try
from allot.kit.clock import Clock
from allot.kit.db import Database
from allot.kit.rounds import Round
from allot.notify import repository as repo
from allot.notify.repository import EmailRow

LEASE = timedelta(minutes=5)
TIMEOUT = 10.0  # seconds, per SMTP command
MAX_ERROR = 500
DEFAULT_SENDER = "allot <billing@localhost>"
_PORTS = {"none": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to send: from `ALLOT_SMTP_URL` and `ALLOT_MAIL_FROM`."""

    host: str
    port: int
    security: str  # none, starttls or tls
    username: str | None
    password: str | None
    sender: str  # the From header, e.g. "Billing <billing@example.com>"
    timeout: float = TIMEOUT

    @classmethod
    def from_url(cls, url: str, *, sender: str = DEFAULT_SENDER) -> SmtpSettings:
        """`smtp://[user:password@]host[:port][?starttls=true]` or `smtps://…` (TLS from the start).

        >>> SmtpSettings.from_url("smtp://mailer:s3cret@mail.example.com?starttls=true").port
        587
        """
        field = "ALLOT_SMTP_URL"
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidInput(
                "invalid_smtp_url", "use smtp://host[:port] or smtps://host[:port]", field=field
            )
        starttls = query.pop("starttls", ["false"])[-1].lower()
        if query or starttls not in ("true", "false"):
            raise InvalidInput(
                "invalid_smtp_url", "the only option is ?starttls=true|false", field=field
            )
        security = (
            "tls" if parts.scheme == "smtps" else "starttls" if starttls == "true" else "none"
        )
        try:
            port = parts.port or _PORTS[security]
        except ValueError:
            raise InvalidInput(
                "invalid_smtp_url", "the port is not a number", field=field
            ) from None
        _, address = parseaddr(sender)
        local, at, domain = address.rpartition("@")
        if not (local and at and domain) or any(c.isspace() for c in address):
            # The operator's own address: its syntax only (an internal domain is fine).
            raise InvalidInput(
                "invalid_email",
                f"{sender!r} is not an address, e.g. 'Billing <billing@example.com>'",
                field="ALLOT_MAIL_FROM",
            )
        return cls(
            host=parts.hostname,
            port=port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
        )

    @property
    def domain(self) -> str:
        return parseaddr(self.sender)[1].rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    error: str | None = None
    permanent: bool = False  # the server refused for good: no further try


def message_of(email: EmailRow, smtp: SmtpSettings, clock: Clock) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = email.to_address
    if email.reply_to:
        msg["Reply-To"] = email.reply_to
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = f"<{email.message_key}@{smtp.domain}>"
    msg.set_content(email.body)
    if email.html:
        msg.add_alternative(email.html, subtype="html")  # multipart/alternative: text first
    return msg


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _refused(exc: smtplib.SMTPException) -> Outcome:
    """What a refusal means: 5xx for the recipient or the message is final."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        said = "; ".join(f"{code} {_decode(text)}" for code, text in exc.recipients.values())
        return Outcome(False, _clip(f"recipient refused: {said}"), all(c >= 500 for c in codes))
    if isinstance(exc, smtplib.SMTPDataError):
        return Outcome(
            False,
            _clip(f"message refused: {exc.smtp_code} {_decode(exc.smtp_error)}"),
            exc.smtp_code >= 500,
        )
    return Outcome(False, _clip(f"{type(exc).__name__}: {exc}"))


def _session(smtp: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.security == "starttls":
            client.starttls(context=context)
    if smtp.username:
        client.login(smtp.username, smtp.password or "")
    return client


def send_all(smtp: SmtpSettings, emails: Sequence[EmailRow], clock: Clock) -> list[Outcome]:
    """Send `emails` in one session; never raises: every failure is an outcome."""
    outcomes: list[Outcome] = []
    try:
        client = _session(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        lost = Outcome(False, _clip(f"cannot reach {smtp.host}:{smtp.port}: {exc}"))
        return [lost] * len(emails)
    try:
        for email in emails:
            try:
                message = message_of(email, smtp, clock)
            except ValueError as exc:  # a header the mail format cannot carry: never sendable
                outcomes.append(Outcome(False, _clip(f"cannot build the message: {exc}"), True))
                continue
            try:
                client.send_message(message)
            except smtplib.SMTPServerDisconnected as exc:
                gone = Outcome(False, _clip(f"the server hung up: {exc}"))
                outcomes += [gone] * (len(emails) - len(outcomes))
                break
            except smtplib.SMTPException as exc:
                outcomes.append(_refused(exc))
                with contextlib.suppress(smtplib.SMTPException):
                    client.rset()
            except OSError as exc:
                lost = Outcome(False, _clip(f"{type(exc).__name__}: {exc}"))
                outcomes += [lost] * (len(emails) - len(outcomes))
                break
            else:
                outcomes.append(Outcome(True))
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return outcomes


def record(db: Database, clock: Clock, email: EmailRow, outcome: Outcome) -> str:
    """Move the message on after one try; returns its new state."""
    now = clock.now()
    attempt = email.attempts + 1
    values: dict[str, Any]
    if outcome.ok:
        values = {"state": repo.SENT, "sent_at": now, "next_attempt_at": None}
    elif outcome.permanent or (again := next_try(attempt, now)) is None:
        values = {"state": repo.FAILED, "next_attempt_at": None}
    else:
        values = {"state": repo.PENDING, "next_attempt_at": again}
    with db.transaction() as conn:
        repo.settle(
            conn,
            email_id=email.id,
            attempts_before=email.attempts,
            attempts=attempt,
            last_error=outcome.error,
            **values,
        )
    return str(values["state"])


def send_due(db: Database, clock: Clock, *, smtp: SmtpSettings, limit: int = 10) -> int:
    """One round: send up to `limit` due messages; returns how many were tried."""
    with db.transaction() as conn:
        now = clock.now()
        leased = repo.lease_due(conn, now=now, until=now + LEASE, limit=limit)
    if not leased:
        return 0
    for email, outcome in zip(leased, send_all(smtp, leased, clock), strict=True):
        record(db, clock, email, outcome)
    return len(leased)


def mail_round(db: Database, clock: Clock, *, smtp: SmtpSettings) -> Round:
    def work(limit: int) -> int:
        return send_due(db, clock, smtp=smtp, limit=limit)

    return work
