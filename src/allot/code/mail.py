"""K2: the partner e-mails a business an activation link for one of its codes.

The link is the platform's page that claims a code (`ALLOT_ACTIVATION_LINK`,
`{code}` filled in); the message also carries the code itself, to type on the
billing page if the link cannot be followed. The e-mail goes out from the
operator's address (`ALLOT_MAIL_FROM`), answers go to the partner's contact
when that is an address. It is queued in the caller's transaction and sent by
`allot worker`; a code that is claimed, revoked or ended can no longer be sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from allot import audit
from allot.catalog import repository as catalog_repo
from allot.catalog.service import names as catalog_names
from allot.code.service import partner_code
from allot.core.codes import display, link
from allot.core.errors import Conflict, InvalidInput, Refused
from allot.grant.repository import GrantRow
from allot.kit.clock import Clock
from allot.kit.i18n import LANGUAGES, format_day, format_number
from allot.notify import repository as mail_repo
from allot.notify.letters import Letter, compose
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


def _package(conn: Connection, code: GrantRow, lang: str) -> list[tuple[str, str]]:
    package = []
    named = catalog_names(conn, lang)
    for metric, quantity in sorted(code.allowances.items()):
        found = catalog_repo.get_metric(conn, metric)
        name = named.metric(metric, found.name if found is not None else metric)
        package.append((name, format_number(quantity, lang)))
    return package


def activation_letter(
    conn: Connection, code: GrantRow, partner_name: str, url: str, note: str | None, lang: str
) -> Letter:
    """The e-mail that hands a business the code: what it gives, for how long, and the link."""
    assert code.code is not None

    def day(at: datetime | None) -> str | None:
        return None if at is None else f"{format_day(at.astimezone(UTC), lang)} (UTC)"

    return compose(
        "activation_link", lang, partner=partner_name, label=code.label,
        package=_package(conn, code, lang), starts=day(code.starts_at), ends=day(code.ends_at),
        url=url, code=display(code.code), note=note,
    )  # fmt: skip


def email_activation_link(
    conn: Connection,
    clock: Clock,
    *,
    partner_id: str,
    number: int,
    to: str,
    link_template: str = DEFAULT_LINK,
    note: str | None = None,
    lang: str = "en",
) -> EmailRow:
    """Queue the activation e-mail of the partner's `Code #number` to `to` (K2), in `lang` —
    the business is not a customer yet, so the partner says which language it reads."""
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
    if lang not in LANGUAGES:
        raise InvalidInput("invalid_language", f"one of {', '.join(LANGUAGES)}", field="lang")
    url = link(check_template(link_template), code.code)
    queued = queue_email(
        conn,
        clock,
        kind=ACTIVATION_LINK,
        to=to,
        letter=activation_letter(conn, code, partner.name, url, (note or "").strip() or None, lang),
        reply_to=partner.contact if is_address(partner.contact) else None,
        partner_id=partner.id,
        grant_id=code.id,
    )
    audit.record(
        conn, clock, change="code.emailed", subject_kind="code",
        subject_id=f"{partner.id}/{number}", partner_id=partner.id,
        after={"email_id": queued.id, "to": queued.to_address, "lang": lang},
    )  # fmt: skip
    return queued


def code_emails(conn: Connection, *, partner_id: str, number: int) -> list[EmailRow]:
    """The activation e-mails of one of the partner's codes, oldest first, with their state."""
    code = partner_code(conn, partner_id, number)
    return mail_repo.of_grant(conn, code.id)
