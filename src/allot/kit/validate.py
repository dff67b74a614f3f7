"""Small input checks shared by every entry point; each error names its field.

The second half carries the same rules onto the wire: Pydantic types for
request bodies whose refusals keep the domain's code (`date_out_of_range`), so
`allot.http` answers them like a `DomainError`, with the body's path as field
(`orders[3].placed_at`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

from allot.core.errors import InvalidInput
from allot.core.periods import in_range

_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def identifier(value: str, *, field: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise InvalidInput(
            "invalid_identifier",
            f"{value!r} must be 1-64 characters of letters, digits, '_', '.', ':' or '-', "
            "starting with a letter or digit",
            field=field,
        )
    return value


def text(value: str, *, field: str, max_length: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("required", "must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidInput("too_long", f"must be at most {max_length} characters", field=field)
    if "\x00" in value:
        raise InvalidInput("invalid_character", "must not contain NUL characters", field=field)
    return value.strip()


# Every character Python's str.splitlines breaks at: an e-mail header refuses each.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def line(value: str, *, field: str, max_length: int = 200) -> str:
    """`text` on one line: a name that heads an e-mail's subject or a PDF's address."""
    value = text(value, field=field, max_length=max_length)
    if any(ch in value for ch in LINE_BREAKS):
        raise InvalidInput("invalid_character", "must be one line", field=field)
    return value


def email(value: object, *, field: str) -> str:
    """An address a mail server will take (syntax only: no DNS lookup), normalized."""
    from email_validator import EmailNotValidError, validate_email

    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("invalid_email", "an e-mail address is required", field=field)
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput("invalid_email", str(exc), field=field) from None
    return checked.normalized


def positive_int(value: int, *, field: str, maximum: int = 1_000_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput("not_positive_integer", "must be a positive integer", field=field)
    if value > maximum:
        raise InvalidInput("too_large", f"must be at most {maximum}", field=field)
    return value


def idempotency_key(value: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 255 or not value.isprintable():
        raise InvalidInput(
            "invalid_idempotency_key",
            "must be 1-255 printable characters",
            field="idempotency_key",
        )
    return value


# --- on the wire ---------------------------------------------------------------------------

DOMAIN_CODE = "domain_code"
"""Marks a validation error raised by a domain rule (in its `ctx`): its type is the code."""

_T = TypeVar("_T")


def on_the_wire(check: Callable[[_T], _T]) -> AfterValidator:
    """A Pydantic validator running `check`; its `InvalidInput` keeps its code and message."""

    def run(value: _T) -> _T:
        try:
            return check(value)
        except InvalidInput as exc:
            raise PydanticCustomError(
                exc.code, "{message}", {"message": exc.message, DOMAIN_CODE: True}
            ) from None

    return AfterValidator(run)


def _instant(value: datetime) -> datetime:
    return in_range(value, field="value")


def _day(value: date) -> date:
    return in_range(value, field="value")


Instant = Annotated[AwareDatetime, on_the_wire(_instant)]
"""An instant with an offset, in the engine's years (`allot.core.periods.ENGINE_YEARS`)."""

Day = Annotated[date, on_the_wire(_day)]
"""A calendar date in the engine's years."""
