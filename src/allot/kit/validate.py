"""Small input checks shared by every entry point; each error names its field."""

from __future__ import annotations

import re

from allot.core.errors import InvalidInput

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
