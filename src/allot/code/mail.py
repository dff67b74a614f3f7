"""K2: the partner e-mails a business an activation link for one of its codes.

The link is the platform's page that claims a code (`ALLOT_ACTIVATION_LINK`,
`{code}` filled in); the message also carries the code itself, to type on the
billing page if the link cannot be followed. The e-mail goes out from the
operator's address (`ALLOT_MAIL_FROM`), answers go to the partner's contact
when that is an address. It is queued in the caller's transaction and sent by
`allot worker`; a code that is claimed, revoked or ended can no longer be sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from allot.catalog import repository as catalog_repo
from allot.code.service import partner_code
from allot.core.codes import display, link
from allot.core.errors import Conflict, InvalidInput, Refused
from allot.grant.repository import GrantRow
from allot.kit.clock import Clock
from allot.notify import repository as mail_repo
from allot.notify.models import EmailKind
from allot.notify.repository import EmailRow
from allot.notify.service import is_address, queue_email
from allot.partner.service import get_partner

ACTIVATION_LINK = EmailKind.ACTIVATION_LINK
DEFAULT_LINK = "/activate?code={code}"
MAX_PER_CODE = 5  # a code is for one business: a few tries at the right address, no more
MAX_NOTE = 1000


def require_email(enabled: bool) -> None:
    """Refuse to queue e-mail that nothing would send: the operator configures SMTP first."""
    if not enabled:
        raise Refused(
            "email_not_configured",
            "this allot sends no e-mail: the operator sets ALLOT_SMTP_URL (and runs allot worker)",
        )


def check_template(template: str) -> str:
    if "{code}" not in template:
        raise InvalidInput(
            "invalid_activation_link",
            "the link template needs {code}",
            field="ALLOT_ACTIVATION_LINK",
        )
    return template


def _package(conn: Connection, code: GrantRow) -> list[str]:
    lines = []
    for metric, quantity in sorted(code.allowances.items()):
        found = catalog_repo.get_metric(conn, metric)
        name = found.name if found is not None else metric
        lines.append(f"  - {name}: {quantity:,} per month")
    return lines


def _term(code: GrantRow) -> str:
    def day(at: datetime) -> str:
        return f"{at.day} {at:%B %Y} (UTC)"

    if code.ends_at is None:
        return "It does not expire, and is full again at the start of every month."
    start = f"from {day(code.starts_at)} " if code.starts_at is not None else ""
    return f"It is valid {start}until {day(code.ends_at)}, full again at the start of every month."


def activation_body(
    conn: Connection, code: GrantRow, partner_name: str, url: str, note: str | None
) -> str:
    assert code.code is not None
    parts = [
        "Hello,",
        "",
        f"{partner_name} has sent you an Access Code ({code.label}). It gives your business:",
        "",
        *_package(conn, code),
        "",
        _term(code),
        "",
        "Activate it here:",
        url,
        "",
        f"Or type the code on your billing page: {display(code.code)}",
    ]
    if note:
        parts += ["", f"A note from {partner_name}:", note]
    parts += [
        "",
        "The code can be claimed once, by one business. If you did not expect it, ignore this"
        " e-mail; nothing happens until the code is claimed.",
    ]
    return "\n".join(parts) + "\n"


def email_activation_link(
    conn: Connection,
    clock: Clock,
    *,
    partner_id: str,
    number: int,
    to: str,
    link_template: str = DEFAULT_LINK,
    note: str | None = None,
) -> EmailRow:
    """Queue the activation e-mail of the partner's `Code #number` to `to` (K2)."""
    partner = get_partner(conn, partner_id, lock=True)
    code = partner_code(conn, partner_id, number)
    now = clock.now()
    if code.account_id is not None or code.revoked_at is not None:
        raise Conflict(
            "code_not_available", f"Code #{number} is claimed or revoked", field="number"
        )
    if code.ends_at is not None and code.ends_at <= now:
        raise Conflict("code_ended", f"Code #{number} has ended", field="number")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise InvalidInput("invalid_note", f"at most {MAX_NOTE} characters", field="note")
    if mail_repo.count_of_grant(conn, code.id) >= MAX_PER_CODE:
        raise Refused(
            "too_many_emails",
            f"Code #{number} was e-mailed {MAX_PER_CODE} times already; assign it instead",
            field="number",
        )
    assert code.code is not None
    url = link(check_template(link_template), code.code)
    return queue_email(
        conn,
        clock,
        kind=ACTIVATION_LINK,
        to=to,
        subject=f"{partner.name} sent you an Access Code",
        body=activation_body(conn, code, partner.name, url, (note or "").strip() or None),
        reply_to=partner.contact if is_address(partner.contact) else None,
        partner_id=partner.id,
        grant_id=code.id,
    )


def code_emails(conn: Connection, *, partner_id: str, number: int) -> list[EmailRow]:
    """The activation e-mails of one of the partner's codes, oldest first, with their state."""
    code = partner_code(conn, partner_id, number)
    return mail_repo.of_grant(conn, code.id)
