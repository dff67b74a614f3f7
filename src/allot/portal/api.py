"""`POST /v1/accounts/{id}/portal-sessions`: a link to the business's billing page."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from allot.api_context import Caller, Db, Now
from allot.portal import service

router = APIRouter(prefix="/accounts/{account_id}", tags=["portal"])


class PortalLinkRead(BaseModel):
    url: str = Field(description="Open it in the business's browser: it works once.")
    expires_at: datetime = Field(description="15 minutes from now; the session it opens, 8 h.")


@router.post("/portal-sessions", status_code=201, response_model=PortalLinkRead)
def post_portal_session(
    account_id: str, request: Request, db: Db, now: Now, caller: Caller
) -> PortalLinkRead:
    """A single-use link to the account's "Billing & invoices" page, for the platform to
    hand its business (operator, or the account's own key) — no API key in the browser."""
    with db.transaction() as conn:
        caller.check(conn).require_account(account_id)
        link = service.open_link(conn, now, account_id=account_id)
    base = request.app.state.public_url or str(request.base_url).rstrip("/")
    return PortalLinkRead(url=f"{base}/portal/{link.token}", expires_at=link.expires_at)
