"""Stripe.js on the billing page (P2, P4): the card is typed into Stripe's own field, never
into allot's page, and confirmed with a SetupIntent's client secret; a payment waiting for
3-D Secure is confirmed the same way. allot keeps only what the provider answers.

Pages that run it widen their Content-Security-Policy to Stripe.js's origin and Stripe's API
(`csp`); every other page keeps allot's own: no script from anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

STRIPE_JS = "https://js.stripe.com/v3/"


@dataclass(frozen=True, slots=True)
class StripeJs:
    publishable_key: str  # pk_live_… / pk_test_…: public, shown in the page
    url: str = STRIPE_JS  # a Stripe-compatible test server's copy (localstripe) in tests

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def csp(self) -> str:
        """The page's policy with Stripe.js, its frames and its API allowed, nothing else."""
        stripe = self.origin
        return (
            f"default-src 'self'; script-src 'self' {stripe}; "
            f"connect-src 'self' {stripe} https://api.stripe.com; "
            f"frame-src {stripe} https://hooks.stripe.com; "
            "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
        )
