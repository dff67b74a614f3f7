"""Every table of every domain, imported once so the metadata is complete (Alembic, tests)."""

from allot.account.models import accounts
from allot.apikey.models import api_keys, idempotency_requests
from allot.audit.models import audit_events
from allot.backlog.models import orders, review_gates, review_months
from allot.catalog.models import metrics, plans, product_lines
from allot.grant.models import grant_allowances, grants
from allot.invoice.models import (
    credit_balance_entries,
    credit_note_lines,
    credit_notes,
    invoice_lines,
    invoices,
    number_series,
    seller,
)
from allot.kit.schema import metadata
from allot.kit.simclock import simulated_clock
from allot.notify.models import emails
from allot.partner.models import (
    partner_charges,
    partner_inventory,
    partner_inventory_moves,
    partners,
)
from allot.payment.models import (
    collections,
    payment_attempts,
    payment_customers,
    payment_methods,
    refunds,
)
from allot.portal.models import portal_links, portal_sessions
from allot.referral.models import referral_programs, referrals
from allot.subscription.models import (
    subscription_changes,
    subscription_quantity_changes,
    subscriptions,
)
from allot.usage.models import (
    seat_holds,
    usage_alerts,
    usage_counters,
    usage_entries,
    usage_events,
    usage_routes,
)
from allot.user.models import user_links, user_sessions, users
from allot.webhook.models import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)

__all__ = [
    "accounts",
    "api_keys",
    "audit_events",
    "collections",
    "credit_balance_entries",
    "credit_note_lines",
    "credit_notes",
    "emails",
    "grant_allowances",
    "grants",
    "idempotency_requests",
    "invoice_lines",
    "invoices",
    "metadata",
    "metrics",
    "number_series",
    "orders",
    "partner_charges",
    "partner_inventory",
    "partner_inventory_moves",
    "partners",
    "payment_attempts",
    "payment_customers",
    "payment_methods",
    "plans",
    "portal_links",
    "portal_sessions",
    "product_lines",
    "referral_programs",
    "referrals",
    "refunds",
    "review_gates",
    "review_months",
    "seat_holds",
    "seller",
    "simulated_clock",
    "subscription_changes",
    "subscription_quantity_changes",
    "subscriptions",
    "usage_alerts",
    "usage_counters",
    "usage_entries",
    "usage_events",
    "usage_routes",
    "user_links",
    "user_sessions",
    "users",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_events",
]
