"""Who a document is from and to: billing details, checked once for every party (A1, B8).

An account's billing details (the business being billed) and the operator's
seller identity (who bills it) have the same shape, the same checks and the
same place on a document, so both are a `BillingDetails`. Every field is
optional but what makes an address an address: a first line, a city and a
country (ISO 3166-1 alpha-2, as CLDR knows it). Stored as JSON, so that a
finalized invoice can keep a copy of both exactly as they were (B8).

    >>> d = check_details({"legal_name": "Kavarnia LLC", "address":
    ...     {"line1": "Khreshchatyk 1", "city": "Kyiv", "postal_code": "01001", "country": "ua"}})
    >>> d.address.lines()
    ('Khreshchatyk 1', '01001 Kyiv', 'Ukraine')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from allot.core.errors import InvalidInput
from allot.kit import validate

# CLDR's territories that are not a country one can send a letter to.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ"})
_ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")
_DETAIL_FIELDS = ("legal_name", "email", "tax_id", "address")
MAX_TAX_ID = 40


def country_name(code: str, locale: str = "en") -> str:
    from babel import Locale  # CLDR's names; loaded only by those who check or print one

    names = Locale.parse(locale).territories
    return str(names.get(code) or Locale("en").territories[code])


def check_country(value: object, *, field: str) -> str:
    from babel import Locale

    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) != 2 or code in _NOT_COUNTRIES or code not in Locale("en").territories:
        raise InvalidInput(
            "invalid_country", f"{value!r} is not an ISO 3166-1 country code like 'UA'", field=field
        )
    return code


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    line2: str | None = None
    region: str | None = None
    postal_code: str | None = None

    def lines(self, locale: str = "en") -> tuple[str, ...]:
        """As printed on a document: the street, then postal code and city, region, country."""
        town = " ".join(p for p in (self.postal_code, self.city) if p)
        rows = (self.line1, self.line2, town, self.region, country_name(self.country, locale))
        return tuple(r for r in rows if r)

    def to_json(self) -> dict[str, str]:
        return {f: v for f in _ADDRESS_FIELDS if (v := getattr(self, f)) is not None}


@dataclass(frozen=True, slots=True)
class BillingDetails:
    legal_name: str | None = None
    email: str | None = None
    tax_id: str | None = None
    address: Address | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            f: v for f in ("legal_name", "email", "tax_id") if (v := getattr(self, f)) is not None
        }
        if self.address is not None:
            out["address"] = self.address.to_json()
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> BillingDetails:
        """What `to_json` wrote (trusted: it was checked before it was stored)."""
        if not raw:
            return cls()
        address = raw.get("address")
        return cls(
            legal_name=raw.get("legal_name"),
            email=raw.get("email"),
            tax_id=raw.get("tax_id"),
            address=None if address is None else Address(**address),
        )


def check_details(raw: Mapping[str, Any], *, field: str = "billing_details") -> BillingDetails:
    """Billing details from input, every field checked and named (`billing_details.tax_id`)."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("invalid_billing_details", "must be an object", field=field)
    _no_unknown(raw, _DETAIL_FIELDS, field)
    legal_name = _optional_line(raw, "legal_name", field)
    tax_id = _optional_line(raw, "tax_id", field, max_length=MAX_TAX_ID)
    email = raw.get("email")
    if email is not None:
        email = validate.email(email, field=f"{field}.email")
    address = raw.get("address")
    return BillingDetails(
        legal_name=legal_name,
        email=email,
        tax_id=tax_id,
        address=None if address is None else check_address(address, field=f"{field}.address"),
    )


def check_address(raw: object, *, field: str) -> Address:
    if not isinstance(raw, Mapping):
        raise InvalidInput("invalid_address", "must be an object", field=field)
    _no_unknown(raw, _ADDRESS_FIELDS, field)
    line1 = _optional_line(raw, "line1", field)
    city = _optional_line(raw, "city", field)
    for name, value in (("line1", line1), ("city", city), ("country", raw.get("country"))):
        if value is None:
            raise InvalidInput("required", "an address needs it", field=f"{field}.{name}")
    assert line1 is not None
    assert city is not None
    return Address(
        line1=line1,
        city=city,
        country=check_country(raw["country"], field=f"{field}.country"),
        line2=_optional_line(raw, "line2", field),
        region=_optional_line(raw, "region", field),
        postal_code=_optional_line(raw, "postal_code", field, max_length=20),
    )


def _optional_line(
    raw: Mapping[str, Any], name: str, field: str, *, max_length: int = 200
) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    return validate.line(value, field=f"{field}.{name}", max_length=max_length)


def _no_unknown(raw: Mapping[str, Any], known: tuple[str, ...], field: str) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise InvalidInput(
            "unknown_field",
            f"unknown field {unknown[0]!r}: use {', '.join(known)}",
            field=f"{field}.{unknown[0]}",
        )
