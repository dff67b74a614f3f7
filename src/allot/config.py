"""Configuration from the environment, read once by each entry point."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from allot.core.reporting import FUTURE_TOLERANCE
from allot.notify.smtp import SmtpSettings

if TYPE_CHECKING:
    from allot.billing.collect import Links
    from allot.payment.gateway import PaymentGateway
    from allot.web.stripe_js import StripeJs

DEFAULT_DATABASE_URL = "sqlite:///var/allot.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    sqlite_synchronous: str = "FULL"
    rate_limit: str = "1000/s"  # per API key and per process; "off" for none
    rate_burst: int = 2000
    api_threads: int | None = None  # routes running at once per API process; see route_threads
    claim_rate: str = "10/min"  # Access Code claims per key and per account
    # A4: the platform's sign-up page; {code} becomes the referrer's code
    referral_link: str = "/signup?ref={code}"
    # K2: the platform's page that claims a code; {code} becomes the code
    activation_link: str = "/activate?code={code}"
    # E-mail: sent by `allot worker` over SMTP; unset, allot sends none
    smtp_url: str | None = None
    mail_from: str = "allot <billing@localhost>"
    # U8: how far ahead of the clock an action may be dated (clocks drift)
    future_tolerance: timedelta = FUTURE_TOLERANCE
    # P1-P4: who charges the cards (sandbox: the built-in test provider; stripe)
    payment_gateway: str = "sandbox"
    sandbox_path: str = "var/sandbox.db"
    sandbox_latency: float = 0.0  # seconds each sandbox call waits, as a network would
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None  # another Stripe-compatible API (a test server)
    stripe_publishable_key: str | None = None  # Stripe.js on the billing page (pk_…)
    stripe_js_url: str = "https://js.stripe.com/v3/"
    # P2: the platform's pages for "Update my payment method" and "Confirm your payment";
    # {account} becomes the account's id, {payment} the payment attempt's id
    payment_method_link: str = "/billing?account={account}"
    payment_action_link: str = "/billing/confirm?account={account}&payment={payment}"
    # W1: where browsers reach allot (the billing page's links); unset: each request's address
    public_url: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("ALLOT_DATABASE_URL", DEFAULT_DATABASE_URL),
            sqlite_synchronous=os.environ.get("ALLOT_SQLITE_SYNCHRONOUS", "FULL"),
            rate_limit=os.environ.get("ALLOT_RATE_LIMIT", "1000/s"),
            rate_burst=int(os.environ.get("ALLOT_RATE_BURST", "2000")),
            api_threads=_optional_int(os.environ.get("ALLOT_API_THREADS")),
            claim_rate=os.environ.get("ALLOT_CLAIM_RATE", "10/min"),
            referral_link=os.environ.get("ALLOT_REFERRAL_LINK", "/signup?ref={code}"),
            activation_link=os.environ.get("ALLOT_ACTIVATION_LINK", "/activate?code={code}"),
            smtp_url=os.environ.get("ALLOT_SMTP_URL") or None,
            mail_from=os.environ.get("ALLOT_MAIL_FROM", "allot <billing@localhost>"),
            future_tolerance=timedelta(
                seconds=int(os.environ.get("ALLOT_FUTURE_TOLERANCE", "300"))
            ),
            payment_gateway=os.environ.get("ALLOT_PAYMENT_GATEWAY", "sandbox"),
            sandbox_path=os.environ.get("ALLOT_SANDBOX_PATH", "var/sandbox.db"),
            sandbox_latency=float(os.environ.get("ALLOT_SANDBOX_LATENCY", "0")),
            stripe_secret_key=os.environ.get("ALLOT_STRIPE_SECRET_KEY") or None,
            stripe_webhook_secret=os.environ.get("ALLOT_STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_base=os.environ.get("ALLOT_STRIPE_API_BASE") or None,
            stripe_publishable_key=os.environ.get("ALLOT_STRIPE_PUBLISHABLE_KEY") or None,
            stripe_js_url=os.environ.get("ALLOT_STRIPE_JS_URL") or "https://js.stripe.com/v3/",
            payment_method_link=os.environ.get(
                "ALLOT_PAYMENT_METHOD_LINK", "/billing?account={account}"
            ),
            payment_action_link=os.environ.get(
                "ALLOT_PAYMENT_ACTION_LINK", "/billing/confirm?account={account}&payment={payment}"
            ),
            public_url=os.environ.get("ALLOT_PUBLIC_URL") or None,
        )

    def route_threads(self, *, sqlite: bool) -> int:
        """Routes one API process runs at once: ALLOT_API_THREADS, else by database.

        SQLite has one writer for the whole file, so a second route thread only
        waits for its lock — while contending for the GIL with the thread that
        holds it, which makes every write slower (measured: 15 % fewer consumes
        a second with 3 threads than with 1, at 8 and 32 clients). PostgreSQL
        writes in parallel, so 3 threads keep its connections busy.
        """
        if self.api_threads is not None:
            return self.api_threads
        return 1 if sqlite else 3

    def gateway(self) -> PaymentGateway:
        """The payment provider configured (ALLOT_PAYMENT_GATEWAY), checked."""
        from allot.payment.gateways import open_gateway

        return open_gateway(
            self.payment_gateway,
            sandbox_path=self.sandbox_path,
            stripe_secret_key=self.stripe_secret_key,
            stripe_webhook_secret=self.stripe_webhook_secret,
            stripe_api_base=self.stripe_api_base,
            latency=self.sandbox_latency,
        )

    def stripe_js(self) -> StripeJs | None:
        """Stripe.js on the billing page: with the Stripe gateway and a publishable key."""
        from allot.web.stripe_js import StripeJs

        if self.payment_gateway != "stripe" or not self.stripe_publishable_key:
            return None
        return StripeJs(self.stripe_publishable_key, self.stripe_js_url)

    def payment_links(self) -> Links:
        from allot.billing.collect import Links

        return Links(
            payment_method=self._absolute(self.payment_method_link),
            payment_action=self._absolute(self.payment_action_link),
        )

    def _absolute(self, link: str) -> str:
        """A link e-mailed to a business: a path becomes an address under ALLOT_PUBLIC_URL
        (a mail client has no page to resolve it against)."""
        if link.startswith("/") and self.public_url:
            return self.public_url.rstrip("/") + link
        return link

    def smtp(self) -> SmtpSettings | None:
        """Where e-mail goes, checked; None when no SMTP server is configured."""
        if self.smtp_url is None:
            return None
        return SmtpSettings.from_url(self.smtp_url, sender=self.mail_from)


def _optional_int(value: str | None) -> int | None:
    return None if value is None or value == "" else int(value)
