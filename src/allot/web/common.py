"""What every page shares: private headers, the page's language, secure cookies, nonces.

The business's pages (`views`) and the partner's and operator's (`staff`) are separate
rooms with separate cookies; these are the parts of a page that do not depend on who reads
it.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Annotated

from fastapi import Cookie, Form, Query, Request
from fastapi.responses import Response

from allot.core.errors import Forbidden, InvalidInput
from allot.kit.i18n import language

LANG_COOKIE = "allot_lang"
LangCookie = Annotated[str | None, Cookie(alias=LANG_COOKIE)]
LangQuery = Annotated[str | None, Query(alias="lang", max_length=16)]
CsrfField = Annotated[str | None, Form(alias="csrf_token")]


def headers(response: Response) -> Response:
    """Private pages: never cached, never framed, the URL never sent on."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault(  # a page that runs Stripe.js sets its own, wider one
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def page_language(chosen: str | None, remembered: str | None, default: str | None = None) -> str:
    """`?lang=` first, then the language this browser chose before, then the reader's own."""
    for candidate in (chosen, remembered):
        if candidate and language(candidate) == candidate:
            return candidate
    return language(default)


def remember(response: Response, chosen: str | None, lang: str) -> Response:
    if chosen is not None and chosen == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


def secure(request: Request) -> bool:
    """Cookies are Secure when the page is served over HTTPS (or says it is, publicly)."""
    public: str | None = request.app.state.public_url
    return request.url.scheme == "https" or bool(public and public.startswith("https:"))


def check_nonce(presented: str, expected: str | None) -> None:
    """A sign-in form posts the nonce its page set as a SameSite=Strict cookie: another
    site cannot post it (and sign a visitor in as someone else)."""
    if not expected or not hmac.compare_digest(presented, expected):
        raise Forbidden("csrf_token_invalid", "reload the page and send the form again")


def set_nonce(
    request: Request, page: Response, nonce: str, *, name: str, path: str, seconds: int
) -> Response:
    page.set_cookie(
        name, nonce, max_age=seconds, httponly=True, samesite="strict", secure=secure(request),
        path=path,
    )  # fmt: skip
    return page


def units(
    fields: Iterable[tuple[str, object]], prefix: str, *, signed: bool = False
) -> dict[str, int]:
    """A form's whole numbers of units, one field per metric (`allow.staff_seats`): empty or
    0 means none; anything else that is not a whole number names its field."""
    found: dict[str, int] = {}
    for key, value in fields:
        text = str(value).strip()
        if not key.startswith(prefix) or not text:
            continue
        digits = text.removeprefix("-") if signed else text
        if not digits.isdigit() or len(digits) > 10:
            raise InvalidInput("invalid_quantity", "a whole number of units", field=key)
        if int(text) != 0:
            found[key.removeprefix(prefix)[:64]] = int(text)
    return found
