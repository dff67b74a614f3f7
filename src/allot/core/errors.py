"""Domain errors: stable snake_case codes inside, HTTP status at the edge.

    DomainError                 code, message, field
     ├── InvalidInput           a value is malformed or out of range      (422)
     ├── NotFound               no such object for this caller            (404)
     ├── Conflict               the request clashes with current state    (409)
     │    └── IdempotencyMismatch  same key, different body               (422 at the edge)
     ├── Refused                the rules say no (e.g. a blocked metric)  (409)
     ├── Unauthenticated        no valid API key                          (401)
     ├── Forbidden              a valid key whose role may not do this    (403)
     ├── TooLarge               a request past a size or batch limit      (413)
     └── RateLimited            too many requests for this key just now   (429)

Callers catch `DomainError` and render `code`; the message is for humans and
may change, the code may not.
"""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.message}"


class InvalidInput(DomainError):
    pass


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class IdempotencyMismatch(Conflict):
    def __init__(self, key: str) -> None:
        super().__init__(
            "idempotency_key_reused",
            f"idempotency key {key!r} was already used with a different request body",
            field="idempotency_key",
        )


class Refused(DomainError):
    pass


class Unauthenticated(DomainError):
    pass


class Forbidden(DomainError):
    pass


class TooLarge(DomainError):
    pass


class RateLimited(DomainError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("rate_limited", "too many requests for this API key; retry later")
        self.retry_after = retry_after
