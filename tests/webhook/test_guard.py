"""The SSRF guard: only http(s) to public addresses, unless private ones are allowed."""

from __future__ import annotations

import ipaddress

import pytest

from allot.core.errors import InvalidInput
from allot.webhook.guard import (
    ALLOW_PRIVATE_ENV,
    CheckedUrl,
    allow_private_from_env,
    check_url,
    is_public,
    pinned,
)

PRIVATE = [
    "http://127.0.0.1:8080/hooks",
    "http://127.1/",  # shorthand loopback
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://localhost/hooks",  # a name that resolves to loopback
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.10/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://0.0.0.0/",
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",  # loopback inside IPv6
    "http://[::ffff:169.254.169.254]/",
    "http://[2002:a00:1::]/",  # 6to4 around 10.0.0.1
]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_url(url, allow_private=False)
    assert (refused.value.code, refused.value.field) == ("webhook_url_not_allowed", "url")


@pytest.mark.parametrize("url", PRIVATE)
def test_the_operator_may_allow_them(url: str) -> None:
    assert check_url(url, allow_private=True).checked is False


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://93.184.215.14/", "gopher://93.184.215.14/", "//x/", "x"],
)
def test_only_http_and_https_are_allowed_even_when_private_addresses_are(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_url(url, allow_private=True)
    assert (refused.value.code, refused.value.field) == ("webhook_url_not_allowed", "url")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "required"),
        ("http://", "invalid_url"),
        ("http://93.184.215.14:99999/", "invalid_url"),
        ("http://93.184.215.14/a b", "invalid_url"),
        ("http://93.184.215.14/a\x00b", "invalid_url"),
        ("https://" + "a" * 2000 + ".example/", "too_long"),
        ("https://nonexistent.invalid/", "webhook_url_unresolvable"),
    ],
)
def test_malformed_urls_name_the_field(url: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_url(url, allow_private=True)
    assert (refused.value.code, refused.value.field) == (code, "url")


def test_a_public_address_passes() -> None:
    checked = check_url("https://93.184.215.14:8443/hooks?x=1", allow_private=False)
    assert checked.checked is True
    assert checked.port == 8443
    assert checked.addresses == (ipaddress.ip_address("93.184.215.14"),)
    assert is_public(ipaddress.ip_address("2606:4700::1"))
    assert not is_public(ipaddress.ip_address("64:ff9b::7f00:1"))


def test_the_request_connects_to_the_checked_address_with_the_name_for_host_and_tls() -> None:
    checked = CheckedUrl(
        url="https://user:pw@hooks.example:8443/in?x=1",
        host="hooks.example",
        port=8443,
        addresses=(ipaddress.ip_address("2606:4700::1"), ipaddress.ip_address("93.184.215.14")),
        checked=True,
    )
    target = pinned(checked)
    assert target.url == "https://user:pw@[2606:4700::1]:8443/in?x=1"
    assert target.headers == {"Host": "hooks.example:8443"}
    assert target.sni_hostname == "hooks.example"

    plain = pinned(
        CheckedUrl(
            url="http://hooks.example/in",
            host="hooks.example",
            port=80,
            addresses=(ipaddress.ip_address("93.184.215.14"),),
            checked=True,
        )
    )
    assert (plain.url, plain.headers, plain.sni_hostname) == (
        "http://93.184.215.14/in",
        {"Host": "hooks.example"},
        None,
    )


def test_a_literal_address_or_an_allowed_private_url_is_sent_as_it_is() -> None:
    literal = pinned(check_url("http://93.184.215.14/x", allow_private=False))
    assert (literal.url, literal.headers) == ("http://93.184.215.14/x", {})
    allowed = pinned(check_url("http://localhost:9/x", allow_private=True))
    assert (allowed.url, allowed.headers) == ("http://localhost:9/x", {})


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_PRIVATE_ENV, raising=False)
    assert allow_private_from_env() is False
    with pytest.raises(InvalidInput):
        check_url("http://127.0.0.1/")
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")
    assert allow_private_from_env() is True
    assert check_url("http://127.0.0.1/").checked is False
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "0")
    assert allow_private_from_env() is False
