"""The HTTP API: FastAPI under /v1, docs served from local assets (no CDN)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from allot import __version__, http
from allot.account.api import router as accounts
from allot.api_context import Db
from allot.audit.api import router as audit
from allot.billing.api import accounts as signups
from allot.billing.api import router as plans
from allot.billing.collect import Collector, Links
from allot.billing.payments_api import providers as payment_providers
from allot.billing.payments_api import router as payments
from allot.catalog.api import router as catalog
from allot.code.api import router as codes
from allot.code.mail import check_template
from allot.code.mail_api import router as code_emails
from allot.core.reporting import FUTURE_TOLERANCE
from allot.hot import HotRoutes
from allot.invoice.api import billing
from allot.invoice.api import router as invoices
from allot.kit.acting import ActorScope
from allot.kit.clock import Clock, SystemClock
from allot.kit.db import Database
from allot.kit.ratelimit import Buckets, parse_rate
from allot.payment.gateway import PaymentGateway
from allot.portal.api import router as portal
from allot.referral.api import router as referral
from allot.reviews.api import router as reviews
from allot.subscription.api import router as subscriptions
from allot.usage.api import HOT as hot_usage
from allot.usage.api import router as usage
from allot.web.admin import router as admin_pages
from allot.web.staff import router as staff_pages
from allot.web.stripe_js import StripeJs
from allot.web.views import router as pages
from allot.webhook.api import router as webhooks


class Health(BaseModel):
    status: str
    database: str
    version: str


def create_app(
    db: Database,
    clock: Clock | None = None,
    *,
    rate_limit: str = "1000/s",
    rate_burst: int = 2000,
    threads: int = 3,
    claim_rate: str = "10/min",
    referral_link: str = "/signup?ref={code}",
    activation_link: str = "/activate?code={code}",
    email: bool = False,
    future_tolerance: timedelta = FUTURE_TOLERANCE,
    gateway: PaymentGateway | None = None,
    payment_links: Links | None = None,
    public_url: str | None = None,
    stripe_js: StripeJs | None = None,
) -> FastAPI:
    """The API over `db`. `rate_limit` is per API key and per process ('1000/s', 'off').

    `threads` bounds the routes running at once in this process: past it,
    requests wait in line on the event loop instead of crowding the GIL, which
    keeps the slowest answers close to the typical ones. `email` says whether
    an SMTP server is configured for `allot worker` to send the outbox with.
    `future_tolerance` is how far ahead of the clock an action may be dated (U8).
    `gateway` charges the cards (none: the payment routes answer `payments_not_configured`).
    `public_url` is where browsers reach this API (the billing page's links); by default the
    address each request came to. `stripe_js` puts Stripe.js's card field on the billing page
    (with the Stripe gateway).
    """
    app = FastAPIOffline(
        lifespan=_lifespan(threads),
        title="allot",
        version=__version__,
        description=(
            "Usage-based billing and entitlements: may this happen, and who pays?\n\n"
            "Errors are problem+json with a stable `code`: each is listed in `docs/errors.md` "
            "of the allot repository."
        ),
        openapi_url="/openapi.json",
        docs_url="/docs",
        # FastAPI's own OpenTelemetry hooks look the providers up on every request;
        # allot configures none, so they are off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.db = db
    app.state.clock = clock or SystemClock()
    app.state.limiter = Buckets(rate=parse_rate(rate_limit), burst=rate_burst)
    # Claiming a code is guessing-sensitive: its own, much smaller allowance (K2).
    app.state.claim_limiter = Buckets(rate=parse_rate(claim_rate), burst=10)
    app.state.referral_link = referral_link
    app.state.activation_link = check_template(activation_link)
    app.state.email = email
    app.state.future_tolerance = future_tolerance
    app.state.public_url = public_url.rstrip("/") if public_url else None
    app.state.stripe_js = stripe_js
    app.state.payment_links = payment_links or Links()
    app.state.collector = (
        None
        if gateway is None
        else Collector(db, app.state.clock, gateway, payment_links or Links())
    )
    # Inside the body limit (added after it, so outside it in the stack): the hot
    # routes are served here, every other request goes on to FastAPI.
    app.add_middleware(HotRoutes, routes=hot_usage)
    app.add_middleware(ActorScope)  # who acts is known for one request, and only for it
    http.install(app)
    _include_routers(app)
    app.include_router(pages)  # the business's pages, outside /v1 (not in the API's schema)
    app.include_router(staff_pages)  # signing in, and the partner portal
    app.include_router(admin_pages)  # the operator's admin
    return app


def _lifespan(threads: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """At start-up, at most `threads` routes run at once in this process (see `create_app`)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    return lifespan


def _include_routers(app: FastAPI) -> None:
    """The health check, then every domain's routes under /v1."""
    v1 = APIRouter(prefix="/v1", responses=http.PROBLEM_RESPONSES)

    @v1.get("/health", response_model=Health, tags=["health"])
    def health(db: Db) -> Health:
        """Liveness and database reachability (no key needed)."""
        with db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return Health(status="ok", database=db.dialect, version=__version__)

    # Each router straight on the app: one level of route matching per request.
    for router in (
        v1,
        usage,
        accounts,
        referral,
        reviews,
        codes,
        code_emails,
        catalog,
        webhooks,
        invoices,
        subscriptions,
        plans,
        signups,
        billing,
        payments,
        payment_providers,
        portal,
        audit,
    ):
        app.include_router(
            router, prefix="" if router is v1 else "/v1", responses=http.PROBLEM_RESPONSES
        )
