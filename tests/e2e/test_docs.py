"""/docs and /redoc render in a real headless browser with no network beyond the server: every
request to another host is aborted (and recorded), and the pages must still show the API."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Route, async_playwright, expect

from tests.e2e.test_dashboard import CHROMIUM, CHROMIUM_ARGS
from tests.fixtures.app import free_port, serve_process


async def test_swagger_ui_and_redoc_render_offline(tmp_path: Path) -> None:
    assert os.path.exists(CHROMIUM), "scripts/chromium.sh installs Debian's chromium"  # noqa: ASYNC240
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAILSAFE_")} | {
        "FAILSAFE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'fs.db'}"
    }
    port = free_port()
    async with serve_process(env, port) as base, async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            outside: list[str] = []
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            async def only_the_server(route: Route) -> None:
                if route.request.url.startswith(base + "/"):
                    await route.continue_()
                else:
                    outside.append(route.request.url)
                    await route.abort()

            await page.route("**/*", only_the_server)

            await page.goto(f"{base}/docs")
            await expect(page.locator(".swagger-ui .info .title")).to_contain_text("failsafe")
            await expect(page.locator(".opblock-summary-path").first).to_be_visible()
            assert await page.locator(".opblock").count() > 10

            await page.goto(f"{base}/redoc")
            await expect(page.locator("h1").first).to_contain_text("failsafe")
            await expect(page.get_by_text("Liveness: the process is up").first).to_be_attached()
            assert outside == []
            assert errors == []
        finally:
            await browser.close()
