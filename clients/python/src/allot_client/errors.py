"""The one exception the client raises for an answer it did not want."""

from __future__ import annotations

from typing import Any


class AllotError(Exception):
    """An RFC 9457 problem answered by the API.

    `status` is the HTTP status; `code` the stable snake_case code
    (`code_already_claimed`, `invoice_not_open`); `errors` the field errors of a
    refused input, the first of which names `field`; `retry_after` the seconds to
    wait after a 429, as the server sent them.
    """

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code = str(problem.get("code", "http_error"))
        self.detail = str(problem.get("detail", ""))
        self.errors: list[dict[str, Any]] = list(problem.get("errors", []))
        self.retry_after = problem.get("retry_after")
        super().__init__(f"{status} {self.code}: {self.detail}")

    @property
    def field(self) -> str | None:
        return self.errors[0].get("field") if self.errors else None
