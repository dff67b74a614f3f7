"""/v1/partners/{id}/codes/{number}/emails: the partner e-mails a code's activation link (K2)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from allot.api_context import Caller, Db, IdempotencyKey, Now, PathId, idempotent
from allot.apikey.service import Principal
from allot.code.mail import code_emails, email_activation_link, require_email
from allot.kit.i18n import Language
from allot.notify.repository import EmailRow

router = APIRouter(tags=["partners and codes"])


class ActivationEmail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(max_length=320, examples=["owner@corner-coffee.example"])
    note: str | None = Field(
        None, max_length=1000, description="A line from the partner, added to the message."
    )
    lang: Language = Field("en", description="The language the business reads the e-mail in.")


class EmailRead(BaseModel):
    id: int
    to: str
    subject: str
    state: str = Field(description="pending, sent or failed")
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


def email_read(e: EmailRow) -> EmailRead:
    return EmailRead(
        id=e.id,
        to=e.to_address,
        subject=e.subject,
        state=e.state,
        attempts=e.attempts,
        next_attempt_at=e.next_attempt_at,
        last_error=e.last_error,
        sent_at=e.sent_at,
        created_at=e.created_at,
    )


@router.post(
    "/partners/{partner_id}/codes/{number}/emails", status_code=202, response_model=EmailRead
)
def post_email(
    partner_id: str,
    number: PathId,
    body: ActivationEmail,
    request: Request,
    db: Db,
    now: Now,
    caller: Caller,
    key: IdempotencyKey = None,
) -> object:
    """E-mail an unclaimed code's activation link to a business; `allot worker` sends it."""

    def work(conn: Connection, principal: Principal) -> tuple[int, EmailRead]:
        principal.require_partner(partner_id)
        require_email(request.app.state.email)
        sent = email_activation_link(
            conn,
            now,
            partner_id=partner_id,
            number=number,
            to=body.to,
            note=body.note,
            lang=body.lang,
            link_template=request.app.state.activation_link,
        )
        return 202, email_read(sent)

    request_body = {"partner": partner_id, "number": number, **body.model_dump()}
    return idempotent(db, now, caller, key, request_body, work)


@router.get("/partners/{partner_id}/codes/{number}/emails", response_model=list[EmailRead])
def get_emails(partner_id: str, number: PathId, db: Db, caller: Caller) -> list[EmailRead]:
    """The code's activation e-mails, oldest first, with their delivery state."""
    with db.read() as conn:
        caller.check(conn).require_partner(partner_id)
        return [email_read(e) for e in code_emails(conn, partner_id=partner_id, number=number)]
