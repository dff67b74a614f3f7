"""The business's pages (W1): thin entry points over the same services as the API.

A browser reaches them with the link the platform asked for
(`POST /v1/accounts/{id}/portal-sessions`): `GET /portal/{token}` shows a button, whose POST
spends the link, sets the session cookie (HttpOnly, SameSite=Lax) and redirects to `/billing`.
Every form carries the session's CSRF token; every basic action is a plain form POST that
answers with a redirect (no JavaScript needed). A session reaches its own account only:
invoices are looked up with the same rule as the API's (`allot.invoice.api.visible`), so
another account's is a 404.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Cookie, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Connection

from allot import http
from allot.api_context import Db, Now, PathId
from allot.apikey.service import Principal
from allot.billing import payments
from allot.billing.changes import change_plan, preview_change
from allot.billing.collect import Collector
from allot.billing.page import BillingPage, billing_page, plans_to_choose
from allot.catalog.service import names as catalog_names
from allot.code.api import throttle_claims
from allot.code.service import claim_code
from allot.core.errors import Conflict, DomainError, InvalidInput, NotFound, Refused
from allot.core.money import to_decimal
from allot.invoice import parties
from allot.invoice import service as invoice_service
from allot.invoice.api import PdfResponse, visible
from allot.kit.i18n import N_
from allot.portal import service as portal
from allot.portal.service import LiveSession
from allot.reviews.service import set_top_up_limit
from allot.web.common import CsrfField, LangCookie, LangQuery, remember, secure, set_nonce
from allot.web.common import check_nonce as _check_nonce
from allot.web.common import headers as _headers
from allot.web.common import page_language as _lang
from allot.web.render import render
from allot.web.stripe_js import StripeJs

router = APIRouter(include_in_schema=False)

COOKIE = "allot_session"
NONCE_COOKIE = "allot_portal"
SessionCookie = Annotated[str | None, Cookie(alias=COOKIE)]
NonceCookie = Annotated[str | None, Cookie(alias=NONCE_COOKIE)]

STATIC = Path(__file__).parent / "static"

# What a redirect after a form tells the page to say (`?done=…`), by key: no free text in URLs.
NOTICES = {
    "claimed": N_("The code is claimed: its resources are yours until it ends."),
    "card": N_("Your card is saved. Open invoices are charged to it within a minute."),
    "confirmed": N_("Thank you: the payment is confirmed."),
    "plan": N_("Your plan is changed."),
    "top_up": N_("Your top-up limit is saved."),
    "not_confirmed": N_("The payment was not confirmed: the invoice is still due."),
    "confirming": N_(
        "Thank you: your bank confirmed it. The invoice is marked paid as soon as the payment"
        " provider tells us, within a minute."
    ),
}

# Refusals the pages show in the page's language, by code; any other keeps its English text.
REFUSALS = {
    "portal_link_invalid": N_(
        "This link has expired or was used already: ask for a new one where you found it."
    ),
    "portal_session_required": N_(
        "Your session has ended: open the billing page again from your account."
    ),
    "csrf_token_invalid": N_("This form has expired: reload the page and send it again."),
    "code_not_found": N_("No code matches: check it for a typo."),
    "invalid_code_format": N_("This does not look like an Access Code: check it for a typo."),
    "rate_limited": N_("Too many tries: wait a minute and try again."),
    "invalid_number": N_("This form holds a value that is not a number: reload the page."),
    "invalid_test_card": N_("This card number was refused: check it and try again."),
    "invalid_expiry": N_("The card's expiry date is not valid."),
    "invalid_amount": N_("This is not an amount: write it like 150 or 150.50."),
    "top_up_not_on_free_plan": N_("A free plan has no top-up: move to a paid plan first."),
    "payment_not_found": N_("There is no such payment to confirm."),
    "payment_not_waiting": N_("This payment is not waiting for a confirmation any more."),
    "invalid_email": N_("This is not an e-mail address: check it for a typo."),
    "sign_in_not_configured": N_("Sign-in links by e-mail are not set up here."),
}
SIGNED_OUT = N_("You are signed out.")
# Refusals after which a business may ask for a new link by e-mail
SIGN_IN_AGAIN = {"portal_link_invalid", "portal_session_required"}

# U4: the three ways out of free overage, as the page offers them
PROMPTS = {
    "activate_code": N_("Enter an Access Code from your partner"),
    "upgrade_plan": N_("Move to a paid plan"),
    "reduce_usage": N_("Use less until next month"),
}
# U3: who paid for the units, by the waterfall's kind (a code by its own label)
PAYERS = {
    "plan": N_("plan allowance"),
    "overage": N_("billed overage"),
    "free_overage": N_("recorded past the free plan"),
    "top_up": N_("paid by the top-up limit"),
    "backlog": N_("past the limit"),
}


def _refusal(request: Request, lang: str, error: DomainError) -> Response:
    """A refusal as a page: the same status as the API's, the message in words."""
    page = render(
        request,
        "message.html",
        lang=lang,
        status=http.status_of(error),
        message=REFUSALS.get(error.code, error.message),
        sign_in=error.code in SIGN_IN_AGAIN and _signs_in_by_email(request),
    )
    return _headers(page)


def _in_session(
    db: Db, now: Now, secret: str | None, work: Callable[[Connection, LiveSession], Response]
) -> Response:
    with db.transaction() as conn:
        session = portal.session_of(conn, now, secret=secret)
        return work(conn, session)


@router.get("/portal/sign-in", response_class=HTMLResponse)
def get_sign_in(
    request: Request,
    sent: Annotated[bool, Query()] = False,
    chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:
    """W1: a business without a link asks for one at its billing e-mail address."""
    lang = _lang(chosen, remembered)
    nonce = secrets.token_urlsafe(16)
    page = remember(
        render(
            request, "sign_in.html", lang=lang, nonce=nonce, sent=sent,
            enabled=_signs_in_by_email(request),
            minutes=int(portal.LINK_LIFETIME.total_seconds() // 60),
        ),
        chosen,
        lang,
    )  # fmt: skip
    return _headers(_set_nonce(request, page, nonce))


@router.post("/portal/sign-in")
def post_sign_in(
    request: Request,
    db: Db,
    now: Now,
    email: Annotated[str, Form()] = "",
    nonce: Annotated[str, Form()] = "",
    expected: NonceCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """Queue the sign-in e-mails; the answer is the same whether the address is on file."""
    lang = _lang(None, remembered)
    try:
        _check_nonce(nonce, expected)
        base: str | None = request.app.state.public_url
        if not request.app.state.email or base is None:
            # the link's address from the request's Host header would be anyone's to choose
            raise Refused(
                "sign_in_not_configured",
                "sign-in by e-mail needs ALLOT_SMTP_URL and ALLOT_PUBLIC_URL",
            )
        with db.transaction() as conn:
            portal.email_sign_in(
                conn, now, address=email[:320], url_of=lambda token: f"{base}/portal/{token}"
            )
    except DomainError as error:
        return _refusal(request, lang, error)
    return _headers(RedirectResponse("/portal/sign-in?sent=true", status_code=303))


def _set_nonce(request: Request, page: Response, nonce: str) -> Response:
    seconds = int(portal.LINK_LIFETIME.total_seconds())
    return set_nonce(request, page, nonce, name=NONCE_COOKIE, path="/portal", seconds=seconds)


def _signs_in_by_email(request: Request) -> bool:
    """E-mail configured, and the public address the link is made with (never the Host's)."""
    return bool(request.app.state.email) and request.app.state.public_url is not None


@router.get("/portal/{token}", response_class=HTMLResponse)
def show_portal(
    token: str, request: Request, chosen: LangQuery = None, remembered: LangCookie = None
) -> Response:
    """The link's landing: a button that opens the page. Following the link spends nothing,
    so a mail scanner that fetches it leaves it usable. The button's form carries a nonce that
    this page also sets as a SameSite=Strict cookie: another site cannot post the form (and
    sign a visitor into the account its own link opens)."""
    nonce = secrets.token_urlsafe(16)
    lang = _lang(chosen, remembered)
    page = remember(
        render(request, "portal.html", lang=lang, token=token[:128], nonce=nonce), chosen, lang
    )
    return _headers(_set_nonce(request, page, nonce))


@router.post("/portal/{token}")
def open_portal(
    token: str,
    request: Request,
    db: Db,
    now: Now,
    nonce: Annotated[str, Form()] = "",
    expected: NonceCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """Spend the single-use link and open the session."""
    try:
        _check_nonce(nonce, expected)
        with db.transaction() as conn:
            session = portal.start_session(conn, now, token=token)
    except DomainError as error:
        return _refusal(request, _lang(None, remembered), error)
    response = RedirectResponse("/billing", status_code=303)
    response.set_cookie(
        COOKIE,
        session.secret,
        max_age=int(portal.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )
    response.delete_cookie(NONCE_COOKIE, path="/portal")
    return _headers(response)


@router.get("/billing", response_class=HTMLResponse)
def get_billing(
    request: Request,
    db: Db,
    now: Now,
    secret: SessionCookie = None,
    done: str | None = None,
    chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:
    """The "Billing & invoices" page of the session's account, in its language (`?lang=`
    switches, and is remembered by this browser)."""

    def page(conn: Connection, session: LiveSession) -> Response:
        return billing_response(
            request, conn, now, session.account_id, chosen=chosen, remembered=remembered,
            csrf_token=session.csrf_token, done=done,
        )  # fmt: skip

    return _answer(request, _lang(chosen, remembered), db, now, secret, page)


def billing_response(
    request: Request,
    conn: Connection,
    now: Now,
    account_id: str,
    *,
    chosen: str | None,
    remembered: str | None,
    csrf_token: str,
    done: str | None = None,
    preview: bool = False,
) -> Response:
    """The page as its business sees it; `preview`: for the operator's admin, its forms
    inert (shown, not usable) and no card script."""
    data = billing_page(
        conn, now, account_id=account_id, links=request.app.state.payment_links,
        referral_link=request.app.state.referral_link,
    )  # fmt: skip
    lang = _lang(chosen, remembered, data.account.locale)
    form = None if preview else _card_form(request)
    response = render(
        request,
        "billing.html",
        lang=lang,
        page=data,
        csrf_token=csrf_token,
        notice=NOTICES.get(done or ""),
        prompts=PROMPTS,
        payers=PAYERS,
        card_form=form,
        stripe_js=request.app.state.stripe_js,
        named=catalog_names(conn, lang),
        preview=preview,
    )
    return _with_stripe(request, remember(response, chosen, lang), form)


@router.get("/billing/invoices/{invoice_id}/pdf")
def get_invoice_pdf(
    invoice_id: PathId,
    request: Request,
    db: Db,
    now: Now,
    secret: SessionCookie = None,
    chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:
    """An invoice of the session's account as PDF, in the page's language (by default the one
    it was issued in); another account's is a 404. Read in a read transaction, rendered after
    it: a PDF takes long, and holds no lock meanwhile."""
    from allot.invoice.pdf import render_pdf  # WeasyPrint loads fonts on import

    try:
        with db.read() as conn:
            session = portal.session_of(conn, now, secret=secret)
            invoice = visible(conn, _as_principal(session), invoice_id)
            issued_in = parties.language_of(invoice.bill_to)
            document = invoice_service.document(
                invoice, locale=_lang(chosen, remembered, issued_in)
            )
    except DomainError as error:
        return _refusal(request, _lang(chosen, remembered), error)
    name = invoice.number or f"invoice-{invoice.id}"
    return _headers(
        PdfResponse(
            render_pdf(document),
            headers={"Content-Disposition": f'inline; filename="{quote(name)}.pdf"'},
        )
    )


@router.post("/billing/codes/claim")
def post_claim(
    request: Request,
    db: Db,
    now: Now,
    code: Annotated[str, Form()] = "",
    csrf_token: CsrfField = None,
    secret: SessionCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """K2: the business types a code on its page."""

    def claim(conn: Connection, session: LiveSession) -> Response:
        portal.check_csrf(session, csrf_token)
        throttle_claims(request, f"account:{session.account_id}")
        claim_code(conn, now, account_id=session.account_id, code=code)
        return RedirectResponse("/billing?done=claimed#codes", status_code=303)

    return _answer(request, _lang(None, remembered), db, now, secret, claim)


def _page_of(request: Request, conn: Connection, now: Now, session: LiveSession) -> BillingPage:
    return billing_page(
        conn,
        now,
        account_id=session.account_id,
        links=request.app.state.payment_links,
        referral_link=request.app.state.referral_link,
    )


def _card_form(request: Request) -> str | None:
    """Which card form the page shows: the sandbox's own (test cards), Stripe.js's (with a
    publishable key configured), or none."""
    collector: Collector | None = request.app.state.collector
    if collector is None:
        return None
    if collector.gateway.name == "sandbox":
        return "sandbox"
    return "stripe" if collector.gateway.name == "stripe" and request.app.state.stripe_js else None


def _with_stripe(request: Request, response: Response, form: str | None) -> Response:
    """A page running Stripe.js allows its origin and Stripe's API, and only then."""
    stripe_js: StripeJs | None = request.app.state.stripe_js
    if form == "stripe" and stripe_js is not None:
        response.headers["Content-Security-Policy"] = stripe_js.csp()
    return response


@router.get("/billing/card.js")
def get_card_script() -> Response:
    """The page's only script: Stripe.js's card field and 3-D Secure confirmation."""
    return FileResponse(STATIC / "card.js", media_type="text/javascript")


@router.post("/billing/card/setup")
def post_card_setup(
    request: Request,
    db: Db,
    now: Now,
    csrf_token: CsrfField = None,
    secret: SessionCookie = None,
) -> Response:
    """A card setup at Stripe for the session's account: its client secret, for Stripe.js to
    confirm with the card typed into Stripe's field (JSON, called by the page's script)."""
    try:
        session, collector = _paying(request, db, now, secret, csrf_token)
        setup = payments.start_card_setup(db, now, collector.gateway, account_id=session.account_id)
    except DomainError as error:
        return _headers(http.domain_problem(error))
    return _headers(
        JSONResponse({"setup_ref": setup.setup_ref, "client_secret": setup.client_secret})
    )


@router.post("/billing/card/saved")
def post_card_saved(
    request: Request,
    db: Db,
    now: Now,
    setup_ref: Annotated[str, Form(max_length=255)] = "",
    csrf_token: CsrfField = None,
    secret: SessionCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """The card Stripe.js confirmed becomes the account's card; open invoices are retried."""
    lang = _lang(None, remembered)
    try:
        session, collector = _paying(request, db, now, secret, csrf_token)
        payments.save_card(
            db, now, collector.gateway, account_id=session.account_id, setup_ref=setup_ref
        )
    except DomainError as error:
        return _refusal(request, lang, error)
    return _headers(RedirectResponse("/billing?done=card#payment", status_code=303))


def _paying(
    request: Request, db: Db, now: Now, secret: str | None, csrf_token: str | None
) -> tuple[LiveSession, Collector]:
    """A payment form's session and CSRF token checked, before the provider is called — which
    `allot.billing.payments` does outside any transaction, as a charge is made."""
    with db.read() as conn:
        session = portal.session_of(conn, now, secret=secret)
        portal.check_csrf(session, csrf_token)
    collector: Collector | None = request.app.state.collector
    if collector is None:
        raise Conflict("payments_not_configured", "this server takes no card payments")
    return session, collector


@router.post("/billing/card")
def post_card(
    request: Request,
    db: Db,
    now: Now,
    number: Annotated[str, Form()] = "",
    exp_month: Annotated[str, Form()] = "",
    exp_year: Annotated[str, Form()] = "",
    csrf_token: CsrfField = None,
    secret: SessionCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """P2 "Update my payment method" with the sandbox's card form: the test card is handed to
    the sandbox provider (allot keeps its brand and last four digits only), and every open
    invoice is charged to it in the next worker round."""
    lang = _lang(None, remembered)
    try:
        session, collector = _paying(request, db, now, secret, csrf_token)
        payments.sandbox_card(
            db, now, collector.gateway, account_id=session.account_id, number=number[:64],
            exp_month=_expiry(exp_month, "exp_month", 1, 12),
            exp_year=_expiry(exp_year, "exp_year", 2000, 2100),
        )  # fmt: skip
    except DomainError as error:
        return _refusal(request, lang, error)
    return _headers(RedirectResponse("/billing?done=card#payment", status_code=303))


@router.get("/billing/confirm", response_class=HTMLResponse)
def get_confirm(
    request: Request,
    db: Db,
    now: Now,
    payment: Annotated[int, Query(ge=1, le=2_147_483_647)],
    secret: SessionCookie = None,
    chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:
    """P4 "Confirm your payment" (the e-mail's and the banner's link): the payment waiting on
    its cardholder, with the sandbox's own 3-D Secure step or Stripe.js's."""

    def confirm(conn: Connection, session: LiveSession) -> Response:
        data = _page_of(request, conn, now, session)
        lang = _lang(chosen, remembered, data.account.locale)
        waiting = payments.waiting_payment(conn, account_id=session.account_id, payment_id=payment)
        form = _card_form(request)
        response = render(
            request, "confirm.html", lang=lang, page=data, attempt=waiting,
            sandbox=form == "sandbox", stripe_js=request.app.state.stripe_js if form == "stripe"
            else None, csrf_token=session.csrf_token, named=catalog_names(conn, lang),
        )  # fmt: skip
        return _with_stripe(request, remember(response, chosen, lang), form)

    return _answer(request, _lang(chosen, remembered), db, now, secret, confirm)


@router.post("/billing/confirm")
def post_confirm(
    request: Request,
    db: Db,
    now: Now,
    payment: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    csrf_token: CsrfField = None,
    secret: SessionCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """The sandbox's 3-D Secure answer: the cardholder passes (or fails) the check."""
    lang = _lang(None, remembered)
    try:
        session, collector = _paying(request, db, now, secret, csrf_token)
        if outcome not in ("pass", "fail"):
            raise InvalidInput("invalid_outcome", "outcome is 'pass' or 'fail'", field="outcome")
        payments.confirm_in_sandbox(
            collector, account_id=session.account_id,
            payment_id=_whole(payment, "payment", 1, 2_147_483_647), success=outcome == "pass",
        )  # fmt: skip
    except DomainError as error:
        return _refusal(request, lang, error)
    done = "confirmed" if outcome == "pass" else "not_confirmed"
    return _headers(RedirectResponse(f"/billing?done={done}", status_code=303))


@router.get("/billing/plan", response_class=HTMLResponse)
def get_plan(
    request: Request,
    db: Db,
    now: Now,
    subscription: Annotated[int, Query(ge=1, le=2_147_483_647)],
    plan: Annotated[str | None, Query(max_length=64)] = None,
    secret: SessionCookie = None,
    chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:
    """B4 EDIT TARIFF PLAN: the plans to choose from; with `plan`, the exact charge (or the
    renewal date of a downgrade) previewed before it is confirmed. Nothing changes here."""

    def choose(conn: Connection, session: LiveSession) -> Response:
        data = _page_of(request, conn, now, session)
        lang = _lang(chosen, remembered, data.account.locale)
        response = render(
            request, "plan.html", lang=lang, csrf_token=session.csrf_token,
            **plan_choice(conn, now, data, subscription, plan, lang),
        )  # fmt: skip
        return remember(response, chosen, lang)

    return _answer(request, _lang(chosen, remembered), db, now, secret, choose)


def plan_choice(
    conn: Connection, now: Now, data: BillingPage, subscription: int, plan: str | None, lang: str
) -> dict[str, Any]:
    """What EDIT TARIFF PLAN shows (`plan.html`): the plans to choose from and, with `plan`,
    the exact change previewed — for the business's page and the operator's alike."""
    sub = next((s for s in data.subscriptions if s.id == subscription), None)
    if sub is None:
        raise NotFound(
            "subscription_not_found", f"no subscription {subscription}", field="subscription"
        )
    preview = None
    if plan:
        preview = preview_change(
            conn, now, account_id=data.account.id, subscription_id=sub.id, plan_code=plan
        )
    plans, named = plans_to_choose(conn, sub), catalog_names(conn, lang)
    names = {p.code: named.plan(p.code, p.name) for p in [*plans, sub.plan]}
    return {
        "page": data, "sub": sub, "preview": preview, "plans": plans, "named": named,
        "plan_names": names,
    }  # fmt: skip


@router.post("/billing/plan")
def post_plan(
    request: Request,
    db: Db,
    now: Now,
    subscription: Annotated[str, Form()] = "",
    plan: Annotated[str, Form(max_length=64)] = "",
    csrf_token: CsrfField = None,
    secret: SessionCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """The confirmed change: an upgrade now with its prorated invoice, a downgrade at the
    renewal (B4), exactly as previewed."""

    def change(conn: Connection, session: LiveSession) -> Response:
        portal.check_csrf(session, csrf_token)
        change_plan(
            conn, now, account_id=session.account_id,
            subscription_id=_whole(subscription, "subscription", 1, 2_147_483_647),
            plan_code=plan,
        )  # fmt: skip
        return RedirectResponse("/billing?done=plan#plan", status_code=303)

    return _answer(request, _lang(None, remembered), db, now, secret, change)


@router.post("/billing/top-up")
def post_top_up(
    request: Request,
    db: Db,
    now: Now,
    mode: Annotated[str, Form(max_length=16)] = "",
    cap: Annotated[str, Form(max_length=32)] = "",
    csrf_token: CsrfField = None,
    secret: SessionCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """R2: the store sets its top-up limit (refused on a free plan, R3)."""

    def top_up(conn: Connection, session: LiveSession) -> Response:
        portal.check_csrf(session, csrf_token)
        amount = None
        if mode == "defined":
            if not CAP.fullmatch(cap.strip()):
                raise InvalidInput("invalid_amount", f"{cap!r} is not an amount", field="cap")
            amount = to_decimal(cap.strip(), field="cap")
        set_top_up_limit(conn, now, account_id=session.account_id, mode=mode, cap=amount)
        return RedirectResponse("/billing?done=top_up#reviews", status_code=303)

    return _answer(request, _lang(None, remembered), db, now, secret, top_up)


CAP = re.compile(r"\d{1,9}(\.\d{1,4})?")  # a top-up cap as a person types it: 150 or 150.50


def _within(value: str, low: int, high: int) -> int | None:
    """A form's whole-number field as typed, or None when it is not one from low to high."""
    text = value.strip()
    if not text.isdigit() or len(text) > 10 or not low <= int(text) <= high:
        return None
    return int(text)


def _whole(value: str, field: str, low: int, high: int) -> int:
    """A form's number field, or a refusal naming it."""
    number = _within(value, low, high)
    if number is None:
        reason = f"{field} is a number from {low} to {high}"
        raise InvalidInput("invalid_number", reason, field=field)
    return number


def _expiry(value: str, field: str, low: int, high: int) -> int:
    """A card's expiry month or year, or a refusal naming it."""
    number = _within(value, low, high)
    if number is None:
        reason = f"{field} is a number from {low} to {high}"
        raise InvalidInput("invalid_expiry", reason, field=field)
    return number


@router.post("/billing/sign-out")
def post_sign_out(
    request: Request,
    db: Db,
    now: Now,
    csrf_token: CsrfField = None,
    secret: SessionCookie = None,
    remembered: LangCookie = None,
) -> Response:
    lang = _lang(None, remembered)

    def sign_out(conn: Connection, session: LiveSession) -> Response:
        portal.check_csrf(session, csrf_token)
        portal.end_session(conn, now, secret=secret)
        response = render(request, "message.html", lang=lang, message=SIGNED_OUT)
        response.delete_cookie(COOKIE, path="/")
        return response

    return _answer(request, lang, db, now, secret, sign_out)


def _answer(
    request: Request,
    lang: str,
    db: Db,
    now: Now,
    secret: str | None,
    work: Callable[[Connection, LiveSession], Response],
) -> Response:
    """A page or a form's POST, in one transaction of the session; a refusal (the whole
    transaction rolled back) as a page with its reason."""
    try:
        return _headers(_in_session(db, now, secret, work))
    except DomainError as error:
        return _refusal(request, lang, error)


def _as_principal(session: LiveSession) -> Principal:
    """The session as the API's authorization rules know a caller: the account's own."""
    return Principal(key_id=0, role="account", subject=session.account_id)
