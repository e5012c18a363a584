"""`failsafe demo`, as a newcomer runs it: its own process on the embedded default (SQLite, no
Kafka), tokens printed once on stdout, the dashboard URL on stderr; signed in with the printed
bureau desk's token, the page shows a live alert within 60 seconds."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from tests.conftest import subprocess_log
from tests.e2e.test_dashboard import CHROMIUM, CHROMIUM_ARGS
from tests.fixtures.app import FAILSAFE, free_port

pytestmark = pytest.mark.integration


async def _line(path: Path, start: str, timeout: float) -> str:
    """The first line of `path` starting with `start`, once the process has written it."""
    async with asyncio.timeout(timeout):
        while True:
            text = await asyncio.to_thread(path.read_text, errors="replace")
            for line in text.splitlines():
                if line.startswith(start):
                    return line
            await asyncio.sleep(0.1)  # a file has no change event to await


async def test_demo_shows_a_live_alert_within_a_minute(tmp_path: Path) -> None:
    assert os.path.exists(CHROMIUM), "scripts/chromium.sh installs Debian's chromium"  # noqa: ASYNC240
    port = free_port()
    out, log = tmp_path / "stdout", subprocess_log("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAILSAFE_")}
    with out.open("wb") as stdout, log.open("ab") as stderr:
        proc = subprocess.Popen(
            [FAILSAFE, "demo", "--port", str(port), "--database", str(tmp_path / "demo.db")],
            env=env,
            cwd=tmp_path,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        desk = (await _line(out, "bureau  DEU", 60)).split()[2]
        await _line(log, "dashboard: ", 60)
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                str(tmp_path / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
            )
            try:
                page = await context.new_page()
                await page.goto(f"http://127.0.0.1:{port}/dashboard/")
                await page.fill("#token", desk)
                await page.click("#sign-in")
                await expect(page.locator("#who-name")).to_contain_text("DEU")
                rows = page.locator("#alerts tbody tr")
                await expect(rows.first).to_be_visible(timeout=60_000)
                await page.screenshot(path=str(tmp_path / "demo.png"))
            finally:
                await context.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(proc.wait, 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait, 10)
    assert proc.returncode == 0
    # The tokens are on stdout only: never in the log.
    assert desk not in await asyncio.to_thread(log.read_text, errors="replace")
