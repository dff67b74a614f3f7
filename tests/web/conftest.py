"""The pages run on the API's world (`tests.e2e.conftest`); browser tests share one Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from allot.kit.db import Database
from tests.e2e.conftest import Api, make_api
from tests.e2e.live import serve
from tests.web.browser import CHROMIUM, Switch


@pytest.fixture
def api(db: Database) -> Api:
    return make_api(db)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (no browser download), one for the whole session."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Switch, str]]:
    switch = Switch()
    with serve(switch) as url:  # type: ignore[arg-type]
        yield switch, url


@pytest.fixture
def live(db: Database, server: tuple[Switch, str]) -> tuple[Api, str]:
    api = make_api(db)
    server[0].app = api.client.app
    return api, server[1]


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 390, "height": 844})  # a phone
    yield context.new_page()
    context.close()
