"""The bureau dashboard in a real headless browser (Playwright driving Debian's chromium): an
event sent in makes an alert appear on the open page without reload, with its explanation and the
subject's movements; acknowledging it there changes its status in the API. The token never
appears in a URL (the websocket connects with a one-time ticket)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import httpx2
import pytest
from playwright.async_api import async_playwright, expect

from failsafe.ingest.service import ScreeningService
from tests.integration.alerts.factories import (
    RunningApp,
    make_entry,
    make_token,
)

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


async def test_live_alert_appears_and_is_acknowledged_from_the_page(
    app: RunningApp, tmp_path: Path
) -> None:
    assert os.path.exists(CHROMIUM), "scripts/chromium.sh installs Debian's chromium"  # noqa: ASYNC240
    entry = await make_entry(
        app.sessions, owner="FRA", surname="PETROV", given_names="IVAN", document="753123456"
    )
    screening: ScreeningService = app.state.services.get(ScreeningService)
    async with asyncio.timeout(10):
        while entry["id"] not in screening.follower.entries:
            await asyncio.sleep(0.05)  # the follower polls the watchlist revision
    bureau = await make_token(app.sessions, "bureau", "DEU")
    border = await make_token(app.sessions, "border", "DEU")

    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            page = await context.new_page()
            http_urls: list[str] = []
            page.on("request", lambda request: http_urls.append(request.url))
            ws_urls: list[str] = []
            page.on("websocket", lambda ws: ws_urls.append(ws.url))
            console_errors: list[str] = []
            page.on(
                "console",
                lambda msg: console_errors.append(msg.text) if msg.type == "error" else None,
            )

            await page.goto(f"{app.http}/dashboard/")
            await page.fill("#token", bureau)
            await page.click("#sign-in")
            await expect(page.locator("#who-name")).to_contain_text("· DEU · bureau")
            await expect(page.locator("#signin")).to_be_hidden()
            await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
            await expect(page.locator("#alerts tbody tr")).to_have_count(0)

            # A border system sends a crossing of the flagged traveller into Germany.
            event = {
                "schema": "failsafe.event/v1",
                "event_id": f"e2e-{uuid.uuid4().hex}",
                "kind": "border_crossing",
                "occurred_at": "2026-11-27T10:22:05+01:00",
                "source": "DEU-BPOL",
                "country": "DEU",
                "crossing": {"point": "DEU-FRA-T1", "mode": "air", "direction": "entry"},
                "traveller": {"surname": "PETROV", "given_names": "IVAN",
                              "date_of_birth": "1970-03-14", "sex": "M", "nationality": "RUS"},
                "document": {"type": "P", "number": "753123456", "issuing_state": "RUS"},
            }
            async with httpx2.AsyncClient(base_url=app.http, timeout=10) as http:
                r = await http.post(
                    "/v1/events", json=event, headers={"Authorization": f"Bearer {border}"}
                )
                assert r.status_code == 202, r.text

                # It appears on the open page without a reload.
                row = page.locator("#alerts tbody tr").first
                await expect(row).to_be_visible(timeout=15_000)
                alert_id = int(await row.get_attribute("data-alert-id") or 0)
                await expect(row.locator(".status")).to_have_text("new")
                await expect(row).to_contain_text("IVAN PETROV")

                # Its explanation and the subject's movements.
                await row.click()
                await expect(page.locator("#detail .explanation")).to_contain_text(
                    "document_number"
                )
                await expect(page.locator("#timeline li")).to_have_count(1)
                await expect(page.locator("#timeline li")).to_contain_text("DEU")

                # Acknowledge from the page: the API says so, and the page shows it.
                await page.fill("#note", "checked from the dashboard")
                await page.click("button[data-transition='acknowledged']")
                await expect(page.locator("#detail-status")).to_have_text("acknowledged")
                await expect(
                    page.locator(f"#alerts tbody tr[data-alert-id='{alert_id}'] .status")
                ).to_have_text("acknowledged")
                r = await http.get(
                    f"/v1/alerts/{alert_id}", headers={"Authorization": f"Bearer {bureau}"}
                )
                assert r.status_code == 200
                body = r.json()
                assert body["status"] == "acknowledged"
                assert body["transitions"][0]["note"] == "checked from the dashboard"

            # The token travelled in headers only: the websocket connected with a one-time ticket.
            assert http_urls and not [u for u in http_urls if bureau in u]
            assert ws_urls and all("?ticket=fst_" in u and bureau not in u for u in ws_urls)
            assert not console_errors, console_errors
        finally:
            await context.close()
