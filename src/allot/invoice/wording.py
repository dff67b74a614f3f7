"""What a document's lines and notes say, in the language of the business it bills (W2).

A line's description is written once, when the document is issued, in the account's language
at that moment, and kept with it: a finalized invoice reads as it did when it was finalized,
whatever the account's language becomes (B8). The amounts of a line are its columns; the
words here only explain them, with the figures in the language's own formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from allot.kit.i18n import format_amount, format_day, format_month, format_number, gettext


def _price(price: Decimal, currency: str, lang: str) -> str:
    return format_amount(price, currency, lang, exact=True)


def _day(day: date, lang: str) -> str:
    return format_day(day, lang, length="medium")


def plan(lang: str, name: str, quantity: int) -> str:
    _ = gettext(lang)
    if quantity > 1:
        return _("%(plan)s × %(quantity)s", plan=name, quantity=format_number(quantity, lang))
    return name


@dataclass(frozen=True, slots=True)
class Usage:
    """What a usage line bills: so many units of a metric in a month, at an exact price."""

    metric: str  # the metric's name, as the catalog gives it
    month: date  # any day of the month
    units: int
    price: Decimal
    currency: str

    def words(self, lang: str, *, mid_sentence: bool = True) -> dict[str, str]:
        """The line's figures, formatted for `lang`, by the names the messages use."""
        return {
            "metric": self.metric.lower() if mid_sentence else self.metric,
            "month": format_month(self.month, lang),
            "units": format_number(self.units, lang),
            "price": _price(self.price, self.currency, lang),
        }


def overage(lang: str, usage: Usage) -> str:
    _ = gettext(lang)
    return _(
        "%(metric)s over the allowance in %(month)s: %(units)s × %(price)s",
        **usage.words(lang, mid_sentence=False),
    )


def top_up(lang: str, usage: Usage) -> str:
    _ = gettext(lang)
    return _(
        "Top-up: %(units)s %(metric)s past the limit in %(month)s × %(price)s", **usage.words(lang)
    )


def extra_seats(lang: str, usage: Usage, days: int) -> str:
    _ = gettext(lang)
    return _(
        "Extra %(metric)s: %(units)s seat-days in %(month)s at %(price)s a month ÷ %(days)s days",
        days=str(days), **usage.words(lang),
    )  # fmt: skip


def late_overage(lang: str, usage: Usage) -> str:
    _ = gettext(lang)
    return _(
        "Late %(metric)s of %(month)s, reported after its invoice: %(units)s × %(price)s",
        **usage.words(lang),
    )


def upgrade(lang: str, before: str, after: str) -> str:
    _ = gettext(lang)
    return _("Upgrade %(before)s → %(after)s", before=before, after=after)


def more_locations(lang: str, name: str, before: int, after: int) -> str:
    _ = gettext(lang)
    return _("%(plan)s: %(before)s → %(after)s locations", plan=name, before=before, after=after)


def prorated(lang: str, what: str, days_left: int, days: int) -> str:
    _ = gettext(lang)
    return _("%(what)s: %(left)s of %(days)s days", what=what, left=days_left, days=days)


def prorated_note(lang: str, start: date, end: date) -> str:
    _ = gettext(lang)
    return _(
        "Prorated for the period %(start)s – %(end)s.", start=_day(start, lang),
        end=_day(end, lang),
    )  # fmt: skip


def overage_waived(lang: str, month: date, upgraded_on: date) -> str:
    _ = gettext(lang)
    return _(
        "Overage of %(month)s waived: the plan was upgraded on %(day)s.",
        month=format_month(month, lang), day=_day(upgraded_on, lang),
    )  # fmt: skip


def refunded(lang: str, amount: str) -> str:
    _ = gettext(lang)
    return _("%(amount)s goes back to the card that paid the invoice.", amount=amount)


def kept_as_credit(lang: str, amount: str) -> str:
    _ = gettext(lang)
    return _("%(amount)s kept as credit, taken off your next invoices.", amount=amount)


def wholesale(lang: str, code: str, metric: str, units: int, client: str | None) -> str:
    _ = gettext(lang)
    units_text = format_number(units, lang)
    if client is None:
        return _(
            "%(code)s — %(metric)s: %(units)s a month", code=code, metric=metric, units=units_text
        )
    return _(
        "%(code)s — %(metric)s: %(units)s a month (client %(client)s)",
        code=code, metric=metric, units=units_text, client=client,
    )  # fmt: skip


def wholesale_terms(lang: str, discount: Decimal) -> str:
    _ = gettext(lang)
    return _(
        "Wholesale terms: %(discount)s off the price per resource per month.",
        discount=f"{discount * 100:f} %",
    )
