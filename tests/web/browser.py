"""What every browser test shares: the server switch, the way in, and the axe-core check.

The fixtures that start Chromium and the server live in `tests/web/conftest.py`: one
Playwright per session (a second in the same thread cannot start), one server per module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.e2e.conftest import Api

CHROMIUM = "/usr/bin/chromium"
SCREENS = Path(__file__).parents[2] / "var" / "test-artifacts" / "screens"


class Switch:
    """One server per module, each test's own app behind it."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def open_billing(api: Api, base: str, page: Page, who: str, by: str | None = None) -> None:
    """The platform asks for `who`'s link (with `by`'s key, else `who`'s); the business opens it."""
    asked = api.as_(by or who)
    url = api.client.post(f"/v1/accounts/{who}/portal-sessions", headers=asked).json()
    page.goto(base + url["url"].removeprefix("http://testserver"))
    page.get_by_role("button", name="Open my billing page").click()
    page.wait_for_url(f"{base}/billing")


def accessible(page: Page, name: str) -> None:
    """No serious or critical axe-core violation; a screenshot kept."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    found = Axe().run(page)
    bad = [
        (v["id"], v["impact"], v["help"])
        for v in found.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: {bad}"
