"""Which provider charges the cards: the sandbox (the default) or Stripe, as configured."""

from __future__ import annotations

from pathlib import Path

from allot.core.errors import InvalidInput
from allot.payment.gateway import PaymentGateway

GATEWAYS = ("sandbox", "stripe")


def open_gateway(
    name: str,
    *,
    sandbox_path: str | Path,
    stripe_secret_key: str | None = None,
    stripe_webhook_secret: str | None = None,
    stripe_api_base: str | None = None,
    latency: float = 0.0,
) -> PaymentGateway:
    """The gateway `name` (ALLOT_PAYMENT_GATEWAY); the Stripe SDK is imported only for Stripe."""
    if name == "sandbox":
        from allot.payment.sandbox import SandboxGateway

        return SandboxGateway(sandbox_path, latency=latency)
    if name == "stripe":
        if not stripe_secret_key:
            raise InvalidInput(
                "missing_stripe_key",
                "ALLOT_PAYMENT_GATEWAY=stripe needs ALLOT_STRIPE_SECRET_KEY (sk_live_… or "
                "sk_test_…)",
                field="ALLOT_STRIPE_SECRET_KEY",
            )
        from allot.payment.stripe_gateway import StripeGateway

        return StripeGateway(
            api_key=stripe_secret_key,
            webhook_secret=stripe_webhook_secret,
            api_base=stripe_api_base,
        )
    raise InvalidInput(
        "invalid_payment_gateway",
        f"{name!r}: use one of {', '.join(GATEWAYS)}",
        field="ALLOT_PAYMENT_GATEWAY",
    )
