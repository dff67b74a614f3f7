"""The operator's admin (W3): accounts, partners, the catalog, webhooks, the audit log.

Thin pages over the services the API and the CLI use. operator-admin changes; operator-
support reads every page and sends no form (`read_only`). Every change is recorded in the
audit log as the signed-in user's. The billing page of any account is shown exactly as its
business sees it, its forms inert.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from allot.account.service import get_account, search_accounts
from allot.api_context import Db, Now, PathId
from allot.audit.service import Search, search
from allot.billing.changes import change_plan
from allot.billing.page import billing_page
from allot.billing.payments import dunning_queue, retry_now
from allot.billing.refunds import credit_note
from allot.catalog import repository as catalog_repo
from allot.catalog.loader import parse_catalog_with_extras
from allot.catalog.loader.results import CatalogError
from allot.catalog.service import load_catalog
from allot.core.errors import InvalidInput, NotFound
from allot.invoice import repository as invoice_repo
from allot.invoice import service as invoice_service
from allot.kit.i18n import N_
from allot.notify.service import outbox
from allot.partner.inventory import stock, top_up
from allot.partner.service import list_partners
from allot.subscription import repository as sub_repo
from allot.user import service as users
from allot.user.service import LiveUser
from allot.web.common import CsrfField, LangCookie, LangQuery, headers, remember, units
from allot.web.render import render
from allot.web.staff import StaffCookie, as_user, user_lang
from allot.web.views import billing_response, plan_choice
from allot.webhook.service import list_deliveries, redeliver

router = APIRouter(include_in_schema=False)

NOTICES = {
    "paid": N_("The invoice is marked paid."),
    "void": N_("The invoice is void."),
    "credited": N_("The credit note is issued."),
    "topped_up": N_("The inventory is topped up."),
    "loaded": N_("The catalog is loaded."),
    "redelivered": N_("The delivery is sent again in the next worker round."),
    "retrying": N_("The invoice is charged in the next worker round."),
    "plan": N_("The plan is changed."),
}
SECTIONS = (
    ("/admin", N_("Overview")),
    ("/admin/accounts", N_("Accounts")),
    ("/admin/partners", N_("Partners")),
    ("/admin/catalog", N_("Catalog")),
    ("/admin/payments", N_("Payments")),
    ("/admin/webhooks", N_("Webhooks")),
    ("/admin/emails", N_("E-mails")),
    ("/admin/audit", N_("Audit log")),
)


def _page(
    request: Request,
    template: str,
    lang: str,
    user: LiveUser,
    chosen: str | None,
    **context: Any,
) -> Response:
    rendered = render(
        request, template, lang=lang, user=user, csrf_token=user.csrf_token, home="/admin",
        sections=SECTIONS, **context,
    )  # fmt: skip
    return headers(remember(rendered, chosen, lang))


def _reader(
    request: Request, db: Db, now: Now, secret: str | None, chosen: str | None,
    remembered: str | None, template: str, build: Callable[[Connection, str], dict[str, Any]],
) -> Response:  # fmt: skip
    """A GET page: the session checked, `build(conn, lang)` gives the template's context."""

    def work(conn: Connection, user: LiveUser, lang: str) -> Response:
        return _page(request, template, lang, user, chosen, **build(conn, lang))

    return as_user(request, db, now, secret, user_lang(chosen, remembered), work, role="operator")


def _writer(
    request: Request, db: Db, now: Now, secret: str | None, csrf_token: str | None,
    remembered: str | None, act: Callable[[Connection], str],
) -> Response:  # fmt: skip
    """A form: CSRF checked, an operator-admin only; `act(conn)` makes the change and says
    where to go next."""

    def work(conn: Connection, user: LiveUser, lang: str) -> Response:
        users.check_csrf(user, csrf_token)
        to = act(conn)
        return headers(RedirectResponse(to, status_code=303))

    return as_user(
        request, db, now, secret, user_lang(None, remembered), work, role="operator", write=True
    )


# --- pages -------------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
def get_admin(
    request: Request, db: Db, now: Now, secret: StaffCookie = None, chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:  # fmt: skip
    """The admin's home: its sections and the latest changes."""

    def build(conn: Connection, lang: str) -> dict[str, Any]:
        return {"events": search(conn, Search(limit=10))}

    return _reader(request, db, now, secret, chosen, remembered, "admin.html", build)


@router.get("/admin/audit", response_class=HTMLResponse)
def get_audit(
    request: Request, db: Db, now: Now, change: str = "", account: str = "", partner: str = "",
    secret: StaffCookie = None, chosen: LangQuery = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    """The audit log, searched (S1)."""

    def build(conn: Connection, lang: str) -> dict[str, Any]:
        query = Search(
            change=change.strip()[:64] or None,
            account_id=account.strip()[:64] or None,
            partner_id=partner.strip()[:64] or None,
            limit=100,
        )
        return {"events": search(conn, query), "query": query}

    return _reader(request, db, now, secret, chosen, remembered, "admin_audit.html", build)


@router.get("/admin/accounts", response_class=HTMLResponse)
def get_accounts(
    request: Request, db: Db, now: Now, q: str = "", secret: StaffCookie = None,
    chosen: LangQuery = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    def build(conn: Connection, lang: str) -> dict[str, Any]:
        return {"accounts": search_accounts(conn, q), "q": q[:64]}

    return _reader(request, db, now, secret, chosen, remembered, "admin_accounts.html", build)


@router.get("/admin/accounts/{account_id}", response_class=HTMLResponse)
def get_one_account(
    account_id: str, request: Request, db: Db, now: Now, done: str = "",
    secret: StaffCookie = None, chosen: LangQuery = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    def build(conn: Connection, lang: str) -> dict[str, Any]:
        account = get_account(conn, account_id[:64])
        return {
            "account": account,
            "subscriptions": sub_repo.live(conn, account.id),
            "invoices": invoice_repo.listing(conn, account_id=account.id, limit=50),
            "notice": NOTICES.get(done),
            "today": now.now().date(),
        }

    return _reader(request, db, now, secret, chosen, remembered, "admin_account.html", build)


@router.get("/admin/accounts/{account_id}/billing", response_class=HTMLResponse)
def get_account_billing(
    account_id: str, request: Request, db: Db, now: Now, secret: StaffCookie = None,
    chosen: LangQuery = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    """The account's billing page, exactly as its business sees it, in its language."""

    def work(conn: Connection, user: LiveUser, lang: str) -> Response:
        account = get_account(conn, account_id[:64])
        page = billing_response(
            request, conn, now, account.id, chosen=chosen, remembered=None, csrf_token="",
            preview=True,
        )  # fmt: skip
        return headers(page)

    return as_user(request, db, now, secret, user_lang(chosen, remembered), work, role="operator")


@router.post("/admin/invoices/{invoice_id}/{action}")
def post_invoice_action(
    invoice_id: PathId,
    action: str,
    request: Request,
    db: Db,
    now: Now,
    reason: Annotated[str, Form(max_length=500)] = "",
    settle: Annotated[str, Form(max_length=16)] = "balance",
    csrf_token: CsrfField = None,
    secret: StaffCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """Mark paid, void, or a credit note for all that is left (kept as credit or refunded)."""

    def act(conn: Connection) -> str:
        invoice = invoice_service.get_invoice(conn, invoice_id)
        if action == "pay":
            invoice_service.mark_paid(
                conn, now, invoice_id=invoice.id, note=reason.strip() or "marked paid in the admin"
            )
            done = "paid"
        elif action == "void":
            invoice_service.void(conn, now, invoice_id=invoice.id, reason=reason.strip())
            done = "void"
        elif action == "credit":
            if settle not in ("balance", "refund"):
                raise InvalidInput(
                    "invalid_settlement", "settle is 'refund' or 'balance'", field="settle"
                )
            credit_note(
                conn, now, invoice_id=invoice.id, reason=reason.strip(), amounts=None,
                issued_on=_today(now), settle=settle,
            )  # fmt: skip
            done = "credited"
        else:
            raise NotFound("page_not_found", f"no action {action!r}")
        where = invoice.account_id and f"/admin/accounts/{invoice.account_id}"
        return f"{where or '/admin'}?done={done}#invoices"

    return _writer(request, db, now, secret, csrf_token, remembered, act)


def _today(now: Now) -> date:
    return now.now().date()


@router.get("/admin/partners", response_class=HTMLResponse)
def get_partners(
    request: Request, db: Db, now: Now, done: str = "", secret: StaffCookie = None,
    chosen: LangQuery = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    def build(conn: Connection, lang: str) -> dict[str, Any]:
        partners = list_partners(conn)
        return {
            "partners": [(p, stock(conn, now, partner_id=p.id)) for p in partners],
            "metrics": catalog_repo.list_metrics(conn),
            "notice": NOTICES.get(done),
        }

    return _reader(request, db, now, secret, chosen, remembered, "admin_partners.html", build)


@router.post("/admin/partners/{partner_id}/inventory")
async def post_inventory(
    partner_id: str, request: Request, db: Db, now: Now, secret: StaffCookie = None,
    remembered: LangCookie = None,
) -> Response:  # fmt: skip
    """A3: add monthly units per resource (`add.<metric>`; empty for none)."""
    form = await request.form()

    def act(conn: Connection) -> str:
        quantities = units(form.multi_items(), "add.", signed=True)
        top_up(
            conn,
            now,
            partner_id=partner_id[:64],
            quantities=quantities,
            note=str(form.get("note") or "")[:200],
        )
        return f"/admin/partners?done=topped_up#partner-{partner_id[:64]}"

    return await run_in_threadpool(
        _writer, request, db, now, secret, str(form.get("csrf_token") or ""), remembered, act
    )


@router.get("/admin/catalog", response_class=HTMLResponse)
def get_catalog(
    request: Request, db: Db, now: Now, done: str = "", secret: StaffCookie = None,
    chosen: LangQuery = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    def build(conn: Connection, lang: str) -> dict[str, Any]:
        return {
            "plans": catalog_repo.latest_plans(conn),
            "notice": NOTICES.get(done),
            "problems": (),
            "text": "",
            "name": "catalog.yaml",
        }

    return _reader(request, db, now, secret, chosen, remembered, "admin_catalog.html", build)


@router.post("/admin/catalog")
def post_catalog(
    request: Request,
    db: Db,
    now: Now,
    yaml: Annotated[str, Form(max_length=1_000_000)] = "",
    name: Annotated[str, Form(max_length=200)] = "catalog.yaml",
    load: Annotated[str, Form(max_length=8)] = "",
    csrf_token: CsrfField = None,
    secret: StaffCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """Validate a catalog file's text, or load it: every problem shown with its line."""

    def work(conn: Connection, user: LiveUser, lang: str) -> Response:
        users.check_csrf(user, csrf_token)
        problems: list[object] = []
        report = None
        try:
            loaded = parse_catalog_with_extras(yaml, path=name.strip() or "catalog.yaml")
            if load:
                report = load_catalog(
                    conn, now, catalog=loaded.catalog, details=loaded.extras.details(),
                    names=loaded.extras.names,
                )  # fmt: skip
        except CatalogError as error:
            problems = list(error.problems)
        return _page(
            request, "admin_catalog.html", lang, user, None, plans=catalog_repo.latest_plans(conn),
            problems=problems, report=report, text=yaml, name=name, notice=None,
            validated=not problems and not load,
        )  # fmt: skip

    return as_user(
        request, db, now, secret, user_lang(None, remembered), work, role="operator", write=True
    )


@router.get("/admin/webhooks", response_class=HTMLResponse)
def get_webhooks(
    request: Request, db: Db, now: Now, state: str = "", done: str = "",
    secret: StaffCookie = None, chosen: LangQuery = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    def build(conn: Connection, lang: str) -> dict[str, Any]:
        wanted = state if state in ("pending", "delivered", "failed") else None
        return {
            "deliveries": list_deliveries(conn, state=wanted, limit=100),
            "state": wanted,
            "notice": NOTICES.get(done),
        }

    return _reader(request, db, now, secret, chosen, remembered, "admin_webhooks.html", build)


@router.post("/admin/webhooks/deliveries/{delivery_id}/redeliver")
def post_redeliver(
    delivery_id: PathId, request: Request, db: Db, now: Now, csrf_token: CsrfField = None,
    secret: StaffCookie = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    def act(conn: Connection) -> str:
        redeliver(conn, now, delivery_id=delivery_id)
        return "/admin/webhooks?done=redelivered"

    return _writer(request, db, now, secret, csrf_token, remembered, act)


@router.get("/admin/payments", response_class=HTMLResponse)
def get_payments(
    request: Request, db: Db, now: Now, done: str = "", secret: StaffCookie = None,
    chosen: LangQuery = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    """The dunning queue (P2): every invoice waiting for a card payment, next try first."""

    def build(conn: Connection, lang: str) -> dict[str, Any]:
        return {"queue": dunning_queue(conn), "notice": NOTICES.get(done)}

    return _reader(request, db, now, secret, chosen, remembered, "admin_payments.html", build)


@router.post("/admin/payments/{invoice_id}/retry")
def post_retry(
    invoice_id: PathId, request: Request, db: Db, now: Now, csrf_token: CsrfField = None,
    secret: StaffCookie = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    def act(conn: Connection) -> str:
        retry_now(conn, now, invoice_id=invoice_id)
        return "/admin/payments?done=retrying"

    return _writer(request, db, now, secret, csrf_token, remembered, act)


@router.get("/admin/emails", response_class=HTMLResponse)
def get_emails(
    request: Request, db: Db, now: Now, state: str = "", secret: StaffCookie = None,
    chosen: LangQuery = None, remembered: LangCookie = None,
) -> Response:  # fmt: skip
    """The e-mail outbox: what was sent, what waits, what failed and why."""

    def build(conn: Connection, lang: str) -> dict[str, Any]:
        wanted = state if state in ("pending", "sent", "failed") else None
        return {"emails": outbox(conn, state=wanted), "state": wanted}

    return _reader(request, db, now, secret, chosen, remembered, "admin_emails.html", build)


@router.get("/admin/accounts/{account_id}/plan", response_class=HTMLResponse)
def get_plan(
    account_id: str,
    request: Request,
    db: Db,
    now: Now,
    subscription: Annotated[int, Query(ge=1, le=2_147_483_647)],
    plan: Annotated[str | None, Query(max_length=64)] = None,
    secret: StaffCookie = None,
    chosen: LangQuery = None,
    remembered: LangCookie = None,
) -> Response:
    """B4 for the operator: the account's plans to choose from and, with `plan`, the exact
    charge previewed (the business's own EDIT TARIFF PLAN, on its behalf)."""

    def build(conn: Connection, lang: str) -> dict[str, Any]:
        data = billing_page(
            conn, now, account_id=get_account(conn, account_id[:64]).id,
            links=request.app.state.payment_links, referral_link=request.app.state.referral_link,
        )  # fmt: skip
        return {
            **plan_choice(conn, now, data, subscription, plan, lang),
            "action": f"/admin/accounts/{data.account.id}/plan",
            "operator": True,
        }

    return _reader(request, db, now, secret, chosen, remembered, "plan.html", build)


@router.post("/admin/accounts/{account_id}/plan")
def post_plan(
    account_id: str,
    request: Request,
    db: Db,
    now: Now,
    subscription: Annotated[int, Form(ge=1, le=2_147_483_647)],
    plan: Annotated[str, Form(max_length=64)] = "",
    csrf_token: CsrfField = None,
    secret: StaffCookie = None,
    remembered: LangCookie = None,
) -> Response:
    """The change as previewed: an upgrade now with its prorated invoice, a downgrade at the
    renewal."""

    def act(conn: Connection) -> str:
        account = get_account(conn, account_id[:64])
        change_plan(conn, now, account_id=account.id, subscription_id=subscription, plan_code=plan)
        return f"/admin/accounts/{account.id}?done=plan#subscriptions"

    return _writer(request, db, now, secret, csrf_token, remembered, act)
