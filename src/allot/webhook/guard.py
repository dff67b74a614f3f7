"""Where a webhook may go: http(s) to public addresses only, unless the operator allows more.

Checked when an endpoint is registered and again before every attempt (a name
may resolve elsewhere by then). The attempt then connects to the address that
was checked, not to a fresh lookup, so DNS rebinding cannot slip past the
check. Refused: loopback, private (RFC 1918, ULA), link-local (including the
169.254.169.254 metadata service), shared (100.64/10), multicast, reserved,
unspecified and documentation ranges — anything that is not global — also when
hidden inside an IPv6 address (::ffff:10.0.0.1, 6to4).

`ALLOT_WEBHOOKS_ALLOW_PRIVATE=1` lifts the address check (for a receiver on
the same machine or network, and for tests); the scheme check stays.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from allot.core.errors import InvalidInput

ALLOW_PRIVATE_ENV = "ALLOT_WEBHOOKS_ALLOW_PRIVATE"
MAX_URL_LENGTH = 2000
SCHEMES = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def allow_private_from_env() -> bool:
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    url: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]  # all that the host resolved to; all passed the check
    checked: bool  # False when private addresses were allowed (no pinning needed)


def not_allowed(message: str) -> InvalidInput:
    return InvalidInput("webhook_url_not_allowed", message, field="url")


def check_url(url: str, *, allow_private: bool | None = None) -> CheckedUrl:
    """Parse and resolve `url`; refuse it unless every address it resolves to is public."""
    allow = allow_private_from_env() if allow_private is None else allow_private
    parts = _parse(url)
    host = _ascii_host(parts.hostname or "")
    port = parts.port or SCHEMES[parts.scheme]
    addresses = _resolve(host, port)
    if not allow:
        for address in addresses:
            if not is_public(address):
                raise not_allowed(f"{host!r} resolves to {address}, which is not a public address")
    return CheckedUrl(url=url, host=host, port=port, addresses=addresses, checked=not allow)


def _parse(url: str) -> SplitResult:
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("required", "must not be empty", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput("too_long", f"must be at most {MAX_URL_LENGTH} characters", field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises on a malformed port
    except ValueError as exc:
        raise InvalidInput("invalid_url", f"{url!r} is not a URL: {exc}", field="url") from None
    if parts.scheme not in SCHEMES:
        raise not_allowed(f"only http and https URLs are allowed, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise InvalidInput("invalid_url", f"{url!r} has no host", field="url")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise InvalidInput(
            "invalid_url", "a URL may not contain spaces or control characters", field="url"
        )
    return parts


def _ascii_host(host: str) -> str:
    try:
        return host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(
            "invalid_url", f"{host!r} is not a valid host name", field="url"
        ) from None


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:  # gaierror, or a name the resolver cannot encode
        raise InvalidInput(
            "webhook_url_unresolvable", f"cannot resolve {host!r}: {exc}", field="url"
        ) from None
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop an IPv6 scope
        if address not in found:
            found.append(address)
    if not found:
        raise InvalidInput("webhook_url_unresolvable", f"{host!r} has no address", field="url")
    return tuple(found)


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour):
            if inner is not None and not is_public(inner):
                return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect: the checked address, with the name kept for Host and TLS (SNI)."""

    url: str
    headers: dict[str, str]
    sni_hostname: str | None


def pinned(checked: CheckedUrl) -> Target:
    """The request target that connects to the first checked address, not to a new lookup."""
    if not checked.checked:
        return Target(url=checked.url, headers={}, sni_hostname=None)
    parts = urlsplit(checked.url)
    if _is_literal(checked.host):
        return Target(url=checked.url, headers={}, sni_hostname=None)  # nothing to look up
    address = checked.addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + literal
    netloc = netloc if parts.port is None else f"{netloc}:{parts.port}"
    host = checked.host if parts.port is None else f"{checked.host}:{parts.port}"
    sni = checked.host if parts.scheme == "https" else None
    return Target(
        url=parts._replace(netloc=netloc).geturl(), headers={"Host": host}, sni_hostname=sni
    )


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
