"""Signing in to the partner portal and the operator's admin (W3), and the partner portal.

A user signs in at `/sign-in` with its name and password (and a TOTP code when it has one
on), or — a partner's user — with a one-time link e-mailed to its address. The session is
its own cookie (`allot_staff`), never the business's: a business's session reaches none
of these pages, a user's none of the business's. Every form carries the session's CSRF
token; the sign-in forms, before any session, a nonce the page sets as a SameSite=Strict
cookie. A partner's user sees and changes its partner's codes only; operator-support
reads the admin and changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from allot import http
from allot.api_context import Db, Now, PathId
from allot.catalog import repository as catalog_repo
from allot.catalog.service import names as catalog_names
from allot.code.mail import email_activation_link
from allot.code.service import (
    assign_code,
    code_state,
    issue_code,
    list_codes,
    pause_code,
    revoke_code,
)
from allot.core.codes import display
from allot.core.errors import (
    DomainError,
    Forbidden,
    NotFound,
    Refused,
    Unauthenticated,
)
from allot.core.periods import month_of
from allot.invoice import repository as invoice_repo
from allot.invoice import service as invoice_service
from allot.kit.i18n import LANGUAGES, N_
from allot.partner.inventory import stock
from allot.partner.reporting import partner_month
from allot.partner.service import get_partner
from allot.user import service as users
from allot.user.service import LiveUser
from allot.web.common import (
    CsrfField,
    LangCookie,
    LangQuery,
    check_nonce,
    headers,
    page_language,
    remember,
    secure,
    set_nonce,
    units,
)
from allot.web.render import render

router = APIRouter(include_in_schema=False)

COOKIE = "allot_staff"
NONCE_COOKIE = "allot_sign_in"
StaffCookie = Annotated[str | None, Cookie(alias=COOKIE)]
NonceCookie = Annotated[str | None, Cookie(alias=NONCE_COOKIE)]
UTC_ZONE = ZoneInfo("UTC")  # a partner's months are UTC months (`allot.partner.reporting`)

NOTICES = {
    "issued": N_("The code is issued."),
    "paused": N_("The code is paused."),
    "resumed": N_("The code is active again."),
    "revoked": N_("The code is revoked."),
    "assigned": N_("The code is assigned to the business."),
    "emailed": N_("The activation link is on its way."),
}
REFUSALS = {
    "sign_in_failed": N_(
        "The name, password or code is wrong. After 5 failures in a row, signing in is "
        "locked for 15 minutes."
    ),
    "sign_in_link_invalid": N_("This link has expired or was used already: ask for a new one."),
    "user_session_required": N_("Sign in to continue."),
    "csrf_token_invalid": N_("This form has expired: reload the page and send it again."),
    "read_only": N_("Your role may look but not change anything."),
    "code_in_use": N_("This code has been used: pause it instead of revoking it."),
    "code_not_available": N_("This code is claimed or revoked."),
    "code_revoked": N_("This code was revoked."),
    "code_ended": N_("This code has ended."),
    "account_not_found": N_("There is no business with this id."),
    "empty_package": N_("A code needs at least one resource."),
    "invalid_email": N_("This is not an e-mail address: check it for a typo."),
    "email_not_configured": N_("E-mail is not set up here."),
    "too_many_emails": N_("This code was e-mailed 5 times already: assign it instead."),
    "sign_in_not_configured": N_("Sign-in links by e-mail are not set up here."),
    "inventory_exceeded": N_(
        "Your inventory has too little left of a resource for this code: ask the operator to"
        " top it up, or revoke a code never used."
    ),
}


def refusal(request: Request, lang: str, error: DomainError, home: str = "/sign-in") -> Response:
    page = render(
        request, "message.html", lang=lang, status=http.status_of(error),
        message=REFUSALS.get(error.code, error.message), home=home,
    )  # fmt: skip
    return headers(page)


def _emails(request: Request) -> bool:
    return bool(request.app.state.email) and request.app.state.public_url is not None


# --- signing in --------------------------------------------------------------------------


@router.get("/sign-in", response_class=HTMLResponse)
def get_sign_in(
    request: Request,
    sent: bool = False,
    chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:
    lang = page_language(chosen, remembered)
    nonce = secrets.token_urlsafe(16)
    page = render(
        request, "staff_sign_in.html", lang=lang, nonce=nonce, sent=sent, links=_emails(request),
        minutes=int(users.LINK_LIFETIME.total_seconds() // 60), home="/sign-in",
    )  # fmt: skip
    return headers(_nonce(request, remember(page, chosen, lang), nonce))


def _nonce(request: Request, page: Response, nonce: str) -> Response:
    return set_nonce(request, page, nonce, name=NONCE_COOKIE, path="/sign-in", seconds=3600)


def _signed_in(request: Request, session: users.Session, to: str) -> Response:
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(
        COOKIE, session.secret, max_age=int(users.SESSION_LIFETIME.total_seconds()),
        httponly=True, samesite="lax", secure=secure(request), path="/",
    )  # fmt: skip
    response.delete_cookie(NONCE_COOKIE, path="/sign-in")
    return headers(response)


@router.post("/sign-in")
def post_sign_in(
    request: Request,
    db: Db,
    now: Now,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
    nonce: Annotated[str, Form()] = "",
    expected: NonceCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """A session, or the one refusal for every failure (counted, and committed)."""
    lang = page_language(None, remembered)
    try:
        check_nonce(nonce, expected)
    except DomainError as error:
        return refusal(request, lang, error)
    with db.transaction() as conn:
        session = users.sign_in(
            conn, now, user_id=name.strip(), password=password, code=code.strip() or None
        )
        role = None if session is None else users.get_user(conn, session.user_id).role
    if session is None:
        return refusal(request, lang, Unauthenticated("sign_in_failed", "sign-in refused"))
    return _signed_in(request, session, "/partner" if role == "partner" else "/admin")


@router.post("/sign-in/link")
def post_sign_in_link(
    request: Request,
    db: Db,
    now: Now,
    email: Annotated[str, Form(max_length=320)] = "",
    nonce: Annotated[str, Form()] = "",
    expected: NonceCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """A partner's user asks for a link; the answer is the same whether the address is known."""
    lang = page_language(None, remembered)
    try:
        check_nonce(nonce, expected)
        base: str | None = request.app.state.public_url
        if not _emails(request) or base is None:
            raise Refused("sign_in_not_configured", "needs ALLOT_SMTP_URL and ALLOT_PUBLIC_URL")
        with db.transaction() as conn:
            users.email_link(conn, now, address=email, url_of=lambda t: f"{base}/sign-in/link/{t}")
    except DomainError as error:
        return refusal(request, lang, error)
    return headers(RedirectResponse("/sign-in?sent=true", status_code=303))


@router.get("/sign-in/link/{token}", response_class=HTMLResponse)
def show_link(
    token: str, request: Request, chosen: LangQuery = None, remembered: LangCookie = None
) -> Response:
    """A button that spends the link: a mail scanner fetching it leaves it usable."""
    lang = page_language(chosen, remembered)
    nonce = secrets.token_urlsafe(16)
    page = render(
        request, "staff_link.html", lang=lang, token=token[:128], nonce=nonce, home="/sign-in"
    )
    return headers(_nonce(request, remember(page, chosen, lang), nonce))


@router.post("/sign-in/link/{token}")
def open_link(
    token: str,
    request: Request,
    db: Db,
    now: Now,
    nonce: Annotated[str, Form()] = "",
    expected: NonceCookie = None,
    remembered: LangCookie = None,
) -> Response:
    try:
        check_nonce(nonce, expected)
        with db.transaction() as conn:
            session = users.sign_in_by_link(conn, now, token=token)
    except DomainError as error:
        return refusal(request, page_language(None, remembered), error)
    return _signed_in(request, session, "/partner")


@router.post("/sign-out")
def post_sign_out(request: Request, db: Db, now: Now, secret: StaffCookie = None) -> Response:
    """Ends this browser's session. No CSRF check: at worst another site signs you out."""
    with db.transaction() as conn:
        users.end_session(conn, now, secret=secret)  # a stale form still signs this browser out
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return headers(response)


# --- a signed-in user's pages ------------------------------------------------------------


def as_user(
    request: Request,
    db: Db,
    now: Now,
    secret: str | None,
    lang_of: Callable[[LiveUser | None], str],
    work: Callable[[Connection, LiveUser, str], Response],
    *,
    role: str,
    write: bool = False,
) -> Response:
    """The user's session checked (and its role: `partner` or `operator`) in one
    transaction with the work; any refusal answered as a page in the user's language."""
    user: LiveUser | None = None
    try:
        with db.transaction() as conn:
            user = users.session_of(conn, now, secret=secret)
            if (role == "partner") != (user.role == "partner"):
                raise NotFound("page_not_found", "there is no such page for you")
            if write and not user.may_change:
                raise Forbidden("read_only", "operator-support changes nothing")
            return work(conn, user, lang_of(user))
    except DomainError as error:
        if isinstance(error, Unauthenticated):
            return headers(RedirectResponse("/sign-in", status_code=303))
        return refusal(request, lang_of(user), error, "/partner" if role == "partner" else "/admin")


def user_lang(chosen: str | None, remembered: str | None) -> Callable[[LiveUser | None], str]:
    def lang_of(user: LiveUser | None) -> str:
        return page_language(chosen, remembered, None if user is None else user.locale)

    return lang_of


def _partner_page(
    request: Request, conn: Connection, now: Now, user: LiveUser, lang: str, done: str | None
) -> Response:
    assert user.partner_id is not None
    partner = get_partner(conn, user.partner_id)
    month = month_of(now.now(), UTC_ZONE)
    this_month = partner_month(conn, now, partner_id=partner.id, month=month, store=False)
    report = {c.number: c for c in this_month.codes}
    named = catalog_names(conn, lang)
    metrics = catalog_repo.list_metrics(conn)
    metric_name = {m.code: named.metric(m.code, m.name) for m in metrics}
    codes = []
    for code in reversed(list_codes(conn, partner.id)):
        assert code.number is not None
        month_of_code = report.get(code.number)
        state = code_state(code, now.now())
        codes.append(
            {
                "number": code.number,
                "label": code.label,
                "state": state,
                "account_id": code.account_id,
                "ends_at": code.ends_at,
                "text": display(code.code or "") if state == "issued" else None,
                "resources": [
                    (metric_name.get(r.metric, r.metric), r.used, r.available)
                    for r in (month_of_code.resources if month_of_code else ())
                ],
                "charge": (
                    sum((r.amount for r in month_of_code.resources), Decimal(0))
                    if month_of_code and month_of_code.billed
                    else None
                ),
            }
        )
    inventory = [
        (metric_name.get(st.metric, st.metric), st.bought, st.held, st.left)
        for st in stock(conn, now, partner_id=partner.id)
    ]
    page = render(
        request, "partner.html", lang=lang, partner=partner, codes=codes, metrics=metrics,
        inventory=inventory, total=this_month.total_rounded,
        invoices=invoice_repo.listing(conn, partner_id=partner.id, limit=24),
        metric_name=metric_name, month=month.key, csrf_token=user.csrf_token, user=user,
        notice=NOTICES.get(done or ""), emails=bool(request.app.state.email), home="/partner",
        states=STATES,
    )  # fmt: skip
    return headers(page)


STATES = {
    "issued": N_("issued"),
    "claimed": N_("claimed"),
    "paused": N_("paused"),
    "ended": N_("ended"),
    "revoked": N_("revoked"),
}


@router.get("/partner", response_class=HTMLResponse)
def get_partner_page(
    request: Request,
    db: Db,
    now: Now,
    done: str | None = None,
    secret: StaffCookie = None,
    chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:
    """The partner's codes: state, client, this month's use of each resource; the forms."""

    def page(conn: Connection, user: LiveUser, lang: str) -> Response:
        return remember(_partner_page(request, conn, now, user, lang, done), chosen, lang)

    return as_user(request, db, now, secret, user_lang(chosen, remembered), page, role="partner")


def _partner_form(
    request: Request,
    db: Db,
    now: Now,
    secret: str | None,
    csrf_token: str | None,
    remembered: str | None,
    act: Callable[[Connection, str], str],
) -> Response:
    """A partner's form: its CSRF token checked, the change made for its own partner, then
    back to the page with what happened."""

    def work(conn: Connection, user: LiveUser, lang: str) -> Response:
        users.check_csrf(user, csrf_token)
        assert user.partner_id is not None
        done = act(conn, user.partner_id)
        return headers(RedirectResponse(f"/partner?done={done}#codes", status_code=303))

    return as_user(
        request, db, now, secret, user_lang(None, remembered), work, role="partner", write=True
    )


@router.post("/partner/codes")
async def post_issue(
    request: Request,
    db: Db,
    now: Now,
    secret: StaffCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """Issue a code: a quantity per resource (`allow.<metric>`), empty for none."""
    form = await request.form()
    csrf_token = str(form.get("csrf_token") or "")

    def issue(conn: Connection, partner_id: str) -> str:
        allowances = units(form.multi_items(), "allow.")
        issue_code(conn, now, partner_id=partner_id, allowances=allowances)
        return "issued"

    return await run_in_threadpool(
        _partner_form, request, db, now, secret, csrf_token, remembered, issue
    )


@router.post("/partner/codes/{number}/{action}")
def post_code_action(
    number: PathId,
    action: str,
    request: Request,
    db: Db,
    now: Now,
    account_id: Annotated[str, Form(max_length=64)] = "",
    to: Annotated[str, Form(max_length=320)] = "",
    lang: Annotated[str, Form(max_length=8)] = "en",
    csrf_token: CsrfField = None,
    secret: StaffCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """pause, resume, revoke (while unused), assign to a business, e-mail its link."""

    def act(conn: Connection, partner_id: str) -> str:
        if action in ("pause", "resume"):
            pause_code(conn, now, partner_id=partner_id, number=number, paused=action == "pause")
            return "paused" if action == "pause" else "resumed"
        if action == "revoke":
            revoke_code(conn, now, partner_id=partner_id, number=number)
            return "revoked"
        if action == "assign":
            assign_code(
                conn, now, partner_id=partner_id, number=number, account_id=account_id.strip()
            )
            return "assigned"
        if action == "email":
            if not request.app.state.email:
                raise Refused("email_not_configured", "set ALLOT_SMTP_URL to send e-mail")
            email_activation_link(
                conn, now, partner_id=partner_id, number=number, to=to.strip(),
                link_template=request.app.state.activation_link,
                lang=lang if lang in LANGUAGES else "en",
            )  # fmt: skip
            return "emailed"
        raise NotFound("page_not_found", f"no action {action!r}")

    return _partner_form(request, db, now, secret, csrf_token, remembered, act)


@router.get("/partner/invoices/{invoice_id}/pdf")
def get_partner_invoice_pdf(
    invoice_id: PathId,
    request: Request,
    db: Db,
    now: Now,
    secret: StaffCookie = None,
    chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:
    """One of the partner's own invoices as PDF (another's is a 404), in the page's language."""
    from allot.invoice.pdf import render_pdf  # WeasyPrint loads fonts on import

    lang_of = user_lang(chosen, remembered)
    user: LiveUser | None = None
    try:
        with db.read() as conn:
            user = users.session_of(conn, now, secret=secret)
            if user.partner_id is None:
                raise NotFound("page_not_found", "there is no such page for you")
            invoice = invoice_repo.get(conn, invoice_id)
            if invoice is None or invoice.partner_id != user.partner_id:
                raise NotFound("invoice_not_found", f"no invoice {invoice_id}", field="invoice_id")
            document = invoice_service.document(invoice, locale=lang_of(user))
    except DomainError as error:
        if isinstance(error, Unauthenticated):
            return headers(RedirectResponse("/sign-in", status_code=303))
        return refusal(request, lang_of(user), error, "/partner")
    name = invoice.number or f"invoice-{invoice.id}"
    return headers(
        Response(
            render_pdf(document),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
        )
    )
