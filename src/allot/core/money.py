"""Exact money: Decimal amounts with a currency, never float.

Amounts stay exact (any number of decimal places) until they are frozen on a
document; then they are rounded once, to the currency's minor unit, with a
named rounding mode. Settled amounts are stored as integer minor units.

    >>> Money.of("279", "USD") / 1500          # the seed's price per order
    Money('0.186', 'USD')
    >>> (Money.of("279", "USD") / 1500).rounded().amount
    Decimal('0.19')
    >>> Money.of("0.14", "USD") * 1071         # the seed's top-up
    Money('149.94', 'USD')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

from allot.core.errors import InvalidInput

# ISO 4217 minor-unit exponents for the currencies allot is expected to meet;
# anything else must be added here deliberately rather than guessed.
EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "UAH": 2,
    "INR": 2,
    "THB": 2,
    "SGD": 2,
    "HKD": 2,
    "MXN": 2,
    "BRL": 2,
    "ZAR": 2,
    "KRW": 0,
    "JPY": 0,
    "VND": 0,
    "ISK": 0,
    "CLP": 0,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}

ROUNDING_MODES: dict[str, str] = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
DEFAULT_ROUNDING = "half_up"


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise InvalidInput(
            "unknown_currency",
            f"currency {currency!r} is not a known ISO 4217 code",
            field="currency",
        ) from None


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Accept Decimal, int or a decimal string; refuse float (binary fractions lose cents)."""
    if isinstance(value, float):
        raise InvalidInput("float_money", "money must not be a float", field=field)
    if isinstance(value, bool):
        raise InvalidInput("invalid_amount", "a boolean is not an amount", field=field)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except ArithmeticError:
            raise InvalidInput(
                "invalid_amount", f"{value!r} is not a number", field=field
            ) from None
    else:
        raise InvalidInput("invalid_amount", f"{value!r} is not an amount", field=field)
    if not result.is_finite():
        raise InvalidInput("invalid_amount", f"{value!r} is not a finite amount", field=field)
    return result


def quantize(amount: Decimal, currency: str, mode: str = DEFAULT_ROUNDING) -> Decimal:
    if mode not in ROUNDING_MODES:
        raise InvalidInput(
            "unknown_rounding", f"rounding must be one of {sorted(ROUNDING_MODES)}", field="mode"
        )
    places = Decimal(1).scaleb(-exponent(currency))
    return amount.quantize(places, rounding=ROUNDING_MODES[mode])


def _factor(value: object) -> Decimal | int:
    """Money scales by integers and Decimals only: not floats, not booleans, not Money."""
    if isinstance(value, float):
        raise InvalidInput("float_money", "money must not be scaled by a float")
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidInput(
            "invalid_factor", f"money can only be scaled by an int or a Decimal, not {value!r}"
        )
    return value


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        exponent(currency)
        return cls(to_decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        exponent(currency)
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-exponent(currency)), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidInput(
                "currency_mismatch",
                f"cannot combine {self.currency} and {other.currency}",
                field="currency",
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        return Money(self.amount * _factor(factor), self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: int | Decimal) -> Money:
        divisor = _factor(divisor)
        if divisor == 0:
            raise InvalidInput("division_by_zero", "money cannot be divided by zero")
        with localcontext() as ctx:
            ctx.prec = 34
            return Money(self.amount / divisor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self, mode: str = DEFAULT_ROUNDING) -> Money:
        """Round to the currency's minor unit with a named mode ("half_up", "half_even")."""
        return Money(quantize(self.amount, self.currency, mode), self.currency)

    def to_minor(self, mode: str = DEFAULT_ROUNDING) -> int:
        return int(quantize(self.amount, self.currency, mode).scaleb(exponent(self.currency)))

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def __str__(self) -> str:
        return f"{quantize(self.amount, self.currency)} {self.currency}"


def split_largest_remainder(total_minor: int, weights: Sequence[int]) -> list[int]:
    """Split an integer total in proportion to weights, adding up exactly.

    Each share is floored, then the leftover units go one by one to the shares
    with the largest remainders (ties: the earlier share).

        >>> split_largest_remainder(100, [1, 1, 1])
        [34, 33, 33]
    """
    if not weights:
        raise InvalidInput("empty_split", "cannot split among no weights")
    if any(w < 0 for w in weights):
        raise InvalidInput("negative_weight", "split weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise InvalidInput("zero_weights", "split weights must not all be zero")
    sign = -1 if total_minor < 0 else 1
    magnitude = abs(total_minor)
    shares = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w % weight_sum for w in weights]
    leftover = magnitude - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        shares[i] += 1
    return [sign * s for s in shares]
