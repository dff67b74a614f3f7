"""Settings read from the environment: the links e-mails carry are whole addresses."""

from __future__ import annotations

import pytest

from allot.config import Settings


def test_p2_a_path_link_is_made_whole_with_the_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOT_PUBLIC_URL", "https://billing.example/")
    monkeypatch.delenv("ALLOT_PAYMENT_METHOD_LINK", raising=False)
    monkeypatch.setenv("ALLOT_PAYMENT_ACTION_LINK", "https://app.example/pay?p={payment}")
    links = Settings.from_env().payment_links()
    assert links.payment_method == "https://billing.example/billing?account={account}"
    assert links.payment_action == "https://app.example/pay?p={payment}"  # already whole


def test_p2_without_a_public_url_a_path_stays_a_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLOT_PUBLIC_URL", raising=False)
    monkeypatch.delenv("ALLOT_PAYMENT_METHOD_LINK", raising=False)
    assert Settings.from_env().payment_links().payment_method == "/billing?account={account}"
