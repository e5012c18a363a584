"""The dashboard signs in through a REAL OpenID Connect provider (mock-oauth2-server, started
locally), in headless chromium: the page offers single sign-on, goes to the provider's login
page, comes back with a code, trades it for a token with PKCE, and is signed in as the person
(their principal, their bureau, the live connection); the code leaves the address bar and no
URL ever carries the token."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from failsafe.settings import OidcSettings
from tests.e2e.test_dashboard import CHROMIUM, CHROMIUM_ARGS
from tests.fixtures.app import running_app, settings_for
from tests.fixtures.oidc import ISSUER, oidc_provider  # noqa: F401

pytestmark = pytest.mark.integration


async def test_the_dashboard_signs_in_through_the_provider(
    fresh_pg_url: str,
    oidc_provider: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert os.path.exists(CHROMIUM), "scripts/chromium.sh installs Debian's chromium"  # noqa: ASYNC240
    settings = settings_for(fresh_pg_url)
    settings.auth.oidc = OidcSettings(issuer=ISSUER, audience="failsafe", client_id="dashboard")
    async with running_app(settings) as app, async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await context.new_page()
            urls: list[str] = []
            page.on("request", lambda request: urls.append(request.url))
            page.on("websocket", lambda ws: urls.append(ws.url))
            await page.goto(f"{app.http}/dashboard/")
            await expect(page.locator("#sso")).to_be_visible()
            await page.click("#sso")

            # The provider's own login page.
            await page.wait_for_url(f"{ISSUER}/authorize*")
            await page.fill("input[name=username]", "martin")
            await page.fill("textarea[name=claims]", '{"name": "Officer Martin"}')
            await page.click("input[type=submit]")

            await page.wait_for_url(f"{app.http}/dashboard/")  # back, the code already gone
            await expect(page.locator("#who-name")).to_have_text("Officer Martin · FRA · bureau")
            await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
            await page.screenshot(path=str(tmp_path / "sso-signed-in.png"))

            token = await page.evaluate("sessionStorage.getItem('failsafe.token')")
            assert token and token.startswith("eyJ")
            assert not any(token in url for url in urls)
            assert any("code_challenge_method=S256" in url for url in urls)
            assert "code=" not in page.url
        finally:
            await context.close()
