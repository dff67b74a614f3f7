"""Money: exact Decimal amounts with a currency, never float (DESIGN 2.3, SPEC B5).

The seed figures (V1, V2, R2) are checked here as plain arithmetic, so every
later layer (charges, invoices, advice) can rely on them.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allot.core.errors import DomainError, InvalidInput
from allot.core.money import (
    EXPONENTS,
    Money,
    exponent,
    quantize,
    split_largest_remainder,
    to_decimal,
)

PROPERTY = settings(max_examples=200, deadline=None)

usd = st.decimals(
    min_value=Decimal("-1000000000"),
    max_value=Decimal("1000000000"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


def usd_money(amount: str) -> Money:
    return Money.of(amount, "USD")


# -- float is refused everywhere ----------------------------------------------------------


@pytest.mark.parametrize("value", [0.1, 1.0, 0.0, -2.5, float("nan"), float("inf")])
def test_B5_money_of_refuses_float(value: float) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        Money.of(value, "USD")
    assert excinfo.value.code == "float_money"
    assert excinfo.value.field == "amount"


def test_B5_to_decimal_refuses_float_and_names_the_callers_field() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        to_decimal(0.14, field="top_up_price")
    assert excinfo.value.code == "float_money"
    assert excinfo.value.field == "top_up_price"


@pytest.mark.parametrize("value", [True, False])
def test_B5_to_decimal_refuses_bool(value: bool) -> None:
    with pytest.raises(InvalidInput):
        to_decimal(value)


def test_B5_multiplying_money_by_a_float_is_refused() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        usd_money("0.20") * 1.5  # type: ignore[operator]
    assert excinfo.value.code == "float_money"


def test_B5_float_times_money_is_refused() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        1.5 * usd_money("0.20")  # type: ignore[operator]
    assert excinfo.value.code == "float_money"


def test_B5_dividing_money_by_a_float_is_refused() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        usd_money("279") / 1500.0  # type: ignore[operator]
    assert excinfo.value.code == "float_money"


def test_B5_money_times_money_is_refused() -> None:
    with pytest.raises((InvalidInput, TypeError)):
        usd_money("2") * usd_money("3")  # type: ignore[operator]


# -- what is accepted, and what is not a number -------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.14", Decimal("0.14")),
        ("279", Decimal("279")),
        (29, Decimal("29")),
        (Decimal("0.186"), Decimal("0.186")),
        ("-1.5", Decimal("-1.5")),
        ("1e3", Decimal("1000")),
    ],
)
def test_B5_to_decimal_accepts_decimal_int_and_decimal_strings(
    value: object, expected: Decimal
) -> None:
    assert to_decimal(value) == expected


@pytest.mark.parametrize("value", ["abc", "", "1,50", "NaN", "Infinity", "-inf", None, [1]])
def test_B5_to_decimal_refuses_what_is_not_a_finite_amount(value: object) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        to_decimal(value, field="price")
    assert excinfo.value.code == "invalid_amount"
    assert excinfo.value.field == "price"


def test_B5_to_decimal_refuses_a_non_finite_decimal() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        to_decimal(Decimal("NaN"))
    assert excinfo.value.code == "invalid_amount"


# -- currencies ---------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["XYZ", "usd", "", "EURO"])
def test_B5_unknown_currency_is_refused_and_names_the_field(currency: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        Money.of("1", currency)
    assert excinfo.value.code == "unknown_currency"
    assert excinfo.value.field == "currency"
    assert "currency" in str(excinfo.value)


def test_B5_from_minor_refuses_unknown_currency() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        Money.from_minor(100, "XYZ")
    assert (excinfo.value.code, excinfo.value.field) == ("unknown_currency", "currency")


def test_B5_zero_refuses_unknown_currency() -> None:
    with pytest.raises(InvalidInput):
        Money.zero("XYZ")


@pytest.mark.parametrize(
    ("currency", "places"), [("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3)]
)
def test_B5_exponent_is_the_iso_4217_minor_unit(currency: str, places: int) -> None:
    assert exponent(currency) == places


def test_B5_adding_different_currencies_is_refused() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        Money.of("29", "EUR") + usd_money("29")
    assert (excinfo.value.code, excinfo.value.field) == ("currency_mismatch", "currency")


def test_B5_subtracting_different_currencies_is_refused() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        Money.of("29", "EUR") - usd_money("1")
    assert excinfo.value.code == "currency_mismatch"


def test_errors_are_domain_errors_with_a_stable_code() -> None:
    with pytest.raises(DomainError) as excinfo:
        Money.of("1", "XYZ")
    assert str(excinfo.value).startswith("unknown_currency [currency]: ")


# -- exact arithmetic ---------------------------------------------------------------------


def test_B5_binary_fractions_do_not_leak_in() -> None:
    assert usd_money("0.1") + usd_money("0.2") == usd_money("0.3")


def test_B5_money_is_immutable() -> None:
    price = usd_money("0.20")
    with pytest.raises(dataclasses.FrozenInstanceError):
        price.amount = Decimal("0.30")  # type: ignore[misc]


def test_B5_zero_negation_and_subtraction() -> None:
    assert Money.zero("USD") + usd_money("149.94") == usd_money("149.94")
    assert -usd_money("60") == usd_money("-60")
    assert usd_money("479") - usd_money("179") == usd_money("300")


@PROPERTY
@given(a=usd, b=usd, n=st.integers(0, 50))
def test_B5_arithmetic_on_cents_is_exact(a: Decimal, b: Decimal, n: int) -> None:
    x, y = Money.of(a, "USD"), Money.of(b, "USD")
    assert (x + y) - y == x
    assert (x + y).amount == a + b
    assert x * n == sum((x for _ in range(n)), Money.zero("USD"))
    assert n * x == x * n
    assert (x * n).rounded() == x * n  # cents times an integer stays in cents


@PROPERTY
@given(a=usd, n=st.integers(1, 10_000))
def test_B5_dividing_then_multiplying_back_rounds_to_the_same_cents(a: Decimal, n: int) -> None:
    x = Money.of(a, "USD")
    assert ((x * n) / n).rounded() == x.rounded()


# -- the seed figures ---------------------------------------------------------------------


def test_V2_price_per_order_279_over_1500_is_0_186_shown_as_0_19() -> None:
    per_order = usd_money("279") / 1500
    assert per_order.amount == Decimal("0.186")
    assert per_order.rounded() == usd_money("0.19")
    assert per_order.to_minor() == 19
    assert str(per_order) == "0.19 USD"


def test_V2_R2_top_up_1071_orders_at_0_14_cost_149_94() -> None:
    cost = usd_money("0.14") * 1071
    assert cost == usd_money("149.94")
    assert cost.to_minor() == 14994
    assert str(cost) == "149.94 USD"


def test_V2_R2_a_150_top_up_cap_buys_1071_orders_2571_in_all_on_business() -> None:
    cap, price = usd_money("150"), usd_money("0.14")
    orders = int(cap.amount // price.amount)
    assert orders == 1071
    assert (price * orders).amount <= cap.amount < (price * (orders + 1)).amount
    assert 1500 + orders == 2571


def test_V2_full_suite_business_300_over_at_0_20_is_60() -> None:
    assert usd_money("0.20") * (1800 - 1500) == usd_money("60")


def test_V2_loyalty_business_500_over_at_0_20_is_100() -> None:
    assert usd_money("0.20") * 500 == usd_money("100")


def test_V1_loyalty_business_at_3000_orders_costs_the_professional_price_479() -> None:
    staying = usd_money("179") + usd_money("0.20") * (3000 - 1500)
    assert staying == usd_money("479")


def test_C6_annual_290_is_two_months_of_29_free() -> None:
    monthly, annual = Money.of("29", "EUR"), Money.of("290", "EUR")
    assert monthly * 10 == annual
    assert monthly * 12 - annual == monthly * 2


def test_C3_three_locations_pay_three_times_the_price() -> None:
    assert 3 * Money.of("29", "EUR") == Money.of("87", "EUR")


# -- rounding and minor units -------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "mode", "expected"),
    [
        ("0.125", "half_up", "0.13"),
        ("0.125", "half_even", "0.12"),
        ("0.135", "half_even", "0.14"),
        ("-0.125", "half_up", "-0.13"),
        ("-0.125", "half_even", "-0.12"),
        ("0.124999", "half_up", "0.12"),
        ("149.94", "half_up", "149.94"),
    ],
)
def test_B5_rounding_uses_a_named_mode(amount: str, mode: str, expected: str) -> None:
    assert usd_money(amount).rounded(mode).amount == Decimal(expected)
    assert quantize(Decimal(amount), "USD", mode) == Decimal(expected)


def test_B5_default_rounding_is_half_up() -> None:
    assert usd_money("0.125").rounded() == usd_money("0.13")


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("149.94", "USD", 14994),
        ("0.005", "USD", 1),
        ("-0.05", "USD", -5),
        ("1234", "JPY", 1234),
        ("1234.5", "JPY", 1235),
        ("1234.4", "JPY", 1234),
        ("0", "JPY", 0),
        ("1.2345", "KWD", 1235),
        ("1.234", "KWD", 1234),
        ("0.001", "KWD", 1),
    ],
)
def test_B5_to_minor_for_two_zero_and_three_decimal_currencies(
    amount: str, currency: str, minor: int
) -> None:
    assert Money.of(amount, currency).to_minor() == minor


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [
        (14994, "USD", "149.94"),
        (-5, "USD", "-0.05"),
        (1234, "JPY", "1234"),
        (0, "JPY", "0"),
        (1235, "KWD", "1.235"),
        (1, "KWD", "0.001"),
    ],
)
def test_B5_from_minor_for_two_zero_and_three_decimal_currencies(
    minor: int, currency: str, amount: str
) -> None:
    assert Money.from_minor(minor, currency) == Money.of(amount, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [("1234.5", "JPY", "1235 JPY"), ("1.2345", "KWD", "1.235 KWD"), ("60", "USD", "60.00 USD")],
)
def test_B5_str_shows_the_amount_rounded_to_the_minor_unit(
    amount: str, currency: str, text: str
) -> None:
    assert str(Money.of(amount, currency)) == text


@PROPERTY
@given(minor=st.integers(-(10**15), 10**15), currency=st.sampled_from(sorted(EXPONENTS)))
def test_B5_minor_units_round_trip(minor: int, currency: str) -> None:
    money = Money.from_minor(minor, currency)
    assert money.to_minor() == minor
    assert money.rounded() == money


# -- largest-remainder split --------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (2, [1, 1, 1], [1, 1, 0]),
        (1, [1, 1], [1, 0]),
        (7, [2, 3, 5], [1, 2, 4]),
        (100, [3, 7], [30, 70]),
        (10, [1, 0, 1], [5, 0, 5]),
        (1, [0, 0, 5], [0, 0, 1]),
        (0, [1, 2], [0, 0]),
        (5, [1], [5]),
        (2900, [31, 31, 30], [977, 977, 946]),
    ],
)
def test_B5_split_largest_remainder_table(
    total: int, weights: list[int], shares: list[int]
) -> None:
    assert split_largest_remainder(total, weights) == shares


@pytest.mark.parametrize(
    ("weights", "code"),
    [([], "empty_split"), ([1, -1], "negative_weight"), ([0, 0], "zero_weights")],
)
def test_B5_split_refuses_weights_it_cannot_split_by(weights: list[int], code: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        split_largest_remainder(100, weights)
    assert excinfo.value.code == code


weights_with_a_positive = st.lists(st.integers(0, 10**6), min_size=1, max_size=12).filter(
    lambda ws: sum(ws) > 0
)


@PROPERTY
@given(total=st.integers(-(10**12), 10**12), weights=weights_with_a_positive)
def test_B5_split_adds_up_exactly_and_each_share_is_within_one_of_its_proportion(
    total: int, weights: list[int]
) -> None:
    shares = split_largest_remainder(total, weights)
    assert len(shares) == len(weights)
    assert sum(shares) == total
    weight_sum = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        exact = Fraction(total * weight, weight_sum)
        assert abs(share - exact) < 1
        if weight == 0:
            assert share == 0
        if share != 0:
            assert (share > 0) == (total > 0)


@PROPERTY
@given(total=st.integers(-(10**12), 10**12), weights=weights_with_a_positive)
def test_B5_split_of_a_negative_total_mirrors_the_positive_one(
    total: int, weights: list[int]
) -> None:
    assert split_largest_remainder(-total, weights) == [
        -s for s in split_largest_remainder(total, weights)
    ]
