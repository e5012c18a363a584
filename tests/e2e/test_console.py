"""The duty officer's console (issue 14) in a real headless browser (Playwright driving Debian's
chromium, as tests/e2e/test_dashboard.py): the triage list sorted by severity then time (or time
alone), filtered by severity, notice, status and subject text, with severity counts and chips
that carry words; keyboard triage (j/k, Enter, a); a new critical alert arriving live raises a
desktop notification (permission granted in the browser context) without personal data, rings,
counts in the tab title and stays highlighted until opened; the detail's case file, officer
names and map of movements (one arc per booking, one mark per placed crossing, every sighting
listed with its places written out); 800 px without horizontal scroll; a one-page print.
Screenshots go to tmp/artifacts/ (not committed)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from failsafe.actor import CLI_ACTOR
from failsafe.watchlist import service as watchlist
from failsafe.watchlist.schemas import EntryIn
from tests import alarm_docs
from tests.conftest import personal_data
from tests.e2e.test_dashboard import CHROMIUM, CHROMIUM_ARGS
from tests.fixtures.app import RunningApp, make_token
from tests.fixtures.factories import emit, make_entry, make_hit

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "tmp" / "artifacts"

# Records each desktop notification the page shows, after the real API accepted it.
NOTIFICATION_SPY = """
window.__notes = [];
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options) {
    super(title, options);
    window.__notes.push({ title, body: (options && options.body) || "" });
  }
};
"""


@pytest_asyncio.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
            permissions=["notifications"],
            viewport={"width": 1440, "height": 900},
        )
        await context.add_init_script(NOTIFICATION_SPY)
        try:
            yield context
        finally:
            await context.close()


async def _sign_in(page: Page, app: RunningApp, token: str, errors: list[str]) -> None:
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{app.http}/dashboard/")
    await page.fill("#token", token)
    await page.click("#sign-in")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")


def _hit(entry: dict[str, Any], at: str, score: float = 0.95) -> Any:
    hit = make_hit(entry, country="DEU", score=score)
    hit.event["occurred_at"] = at
    return hit


async def _ids(page: Page) -> list[int]:
    rows = page.locator("#alerts tbody tr")
    return [int(x) for x in await rows.evaluate_all("rs => rs.map(r => r.dataset.alertId)")]


async def test_triage_list_keyboard_and_attention(app: RunningApp, browser: BrowserContext) -> None:
    red = await make_entry(
        app.sessions, owner="DEU", notice_type="red", action="locate_and_detain"
    )
    green = await make_entry(
        app.sessions, owner="DEU", notice_type="green", action="inform_only",
        surname="MUELLER", given_names="HANS",
    )
    # The critical alert's traveller crossed first; the medium one later but is less urgent.
    critical, medium = await emit(
        app.sessions, app.bus,
        [_hit(red, "2026-11-27T08:00:00+00:00"), _hit(green, "2026-11-27T09:00:00+00:00")],
    )
    assert (critical["severity"], medium["severity"]) == ("critical", "medium")
    bureau = await make_token(app.sessions, "bureau", "DEU")
    page = await browser.new_page()
    errors: list[str] = []
    await _sign_in(page, app, bureau, errors)

    rows = page.locator("#alerts tbody tr")
    await expect(rows).to_have_count(2)
    # Severity first, then time; time alone on request.
    assert await _ids(page) == [critical["id"], medium["id"]]
    first = rows.first
    await expect(first.locator(".chip[data-severity]")).to_have_text("critical")
    await expect(first.locator(".chip[data-notice]")).to_have_text("red notice")
    await expect(first.locator("td.when .event-time")).to_contain_text("2026")
    await expect(first.locator("td.when .received")).to_contain_text("rcvd")
    # Nothing cut at 1440 px: the list's table fits its pane.
    assert await page.evaluate(
        "(() => { const s = document.querySelector('section#list');"
        " return s.scrollWidth - s.clientWidth; })()"
    ) <= 0
    await expect(page.locator("#sev-counts [data-severity='critical']")).to_have_text("critical 1")
    await expect(page.locator("#sev-counts [data-severity='medium']")).to_have_text("medium 1")
    await page.select_option("#sort", "time")
    assert await _ids(page) == [medium["id"], critical["id"]]
    await page.select_option("#sort", "severity")

    # Filters: severity, notice, subject text, status.
    await page.select_option("#f-severity", "critical")
    await expect(rows).to_have_count(1)
    assert await _ids(page) == [critical["id"]]
    await page.select_option("#f-severity", "")
    await page.select_option("#f-notice", "green")
    await expect(rows).to_have_count(1)
    assert await _ids(page) == [medium["id"]]
    await page.select_option("#f-notice", "")
    await page.fill("#f-text", "muell")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("HANS MUELLER")
    await page.fill("#f-text", "")
    await expect(rows).to_have_count(2)

    # Keyboard triage: j to the first row, Enter opens it, a acknowledges it.
    await page.locator("#list h2").click()  # focus out of the inputs
    await page.keyboard.press("j")
    await expect(page.locator("#alerts tbody tr.cursor")).to_have_attribute(
        "data-alert-id", str(critical["id"])
    )
    await page.keyboard.press("j")
    await page.keyboard.press("k")
    await page.keyboard.press("Enter")
    await expect(page.locator("#detail h2")).to_contain_text(f"Alert #{critical['id']}")
    await page.keyboard.press("a")
    await expect(page.locator("#detail-status")).to_have_text("acknowledged")
    await expect(page.locator("#detail .officer")).to_have_text("bureau DEU")
    await page.select_option("#show", "new")
    await expect(rows).to_have_count(1)
    assert await _ids(page) == [medium["id"]]
    await page.select_option("#show", "open")

    # A new critical alert arrives live: notification, sound, title, highlight until opened.
    await expect(page).to_have_title("failsafe — bureau dashboard")
    (live,) = await emit(app.sessions, app.bus, [_hit(red, "2026-11-27T10:00:00+00:00")])
    row = page.locator(f"#alerts tbody tr[data-alert-id='{live['id']}']")
    await expect(row).to_have_class(re.compile(r"\bunseen\b"))
    await expect(page).to_have_title("(1) failsafe — bureau dashboard")
    await page.wait_for_function("window.__notes.length === 1")
    notes = await page.evaluate("window.__notes")
    assert notes[0]["title"] == f"CRITICAL alert #{live['id']}"
    assert "PETROV" not in str(notes) and "IVAN" not in str(notes)  # no personal data
    await expect(page.locator("#mute")).to_have_attribute("data-played", "1")
    await expect(page.locator("#sev-counts [data-severity='critical']")).to_have_text("critical 2")
    await page.screenshot(path=str(ARTIFACTS / "console-live-alert.png"))
    await row.click()
    await expect(row).not_to_have_class(re.compile(r"\bunseen\b"))
    await expect(page).to_have_title("failsafe — bureau dashboard")

    # Muted (and remembered): the next one does not ring, but still notifies.
    await page.click("#mute")
    await expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    await page.reload()
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    await expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    (quiet,) = await emit(app.sessions, app.bus, [_hit(red, "2026-11-27T11:00:00+00:00")])
    await expect(page.locator(f"#alerts tbody tr[data-alert-id='{quiet['id']}']")).to_be_visible()
    await page.wait_for_function("window.__notes.length === 1")
    await expect(page.locator("#mute")).to_have_attribute("data-played", "0")

    # 800 px: everything reachable without scrolling sideways.
    await page.set_viewport_size({"width": 800, "height": 900})
    await page.locator(f"#alerts tbody tr[data-alert-id='{critical['id']}']").click()
    await expect(page.locator("#detail h2")).to_contain_text(f"Alert #{critical['id']}")
    overflow = await page.evaluate(
        "[document.documentElement, ...document.querySelectorAll('section')]"
        ".map(e => e.scrollWidth - e.clientWidth)"
    )
    assert max(overflow) <= 0, f"horizontal scroll at 800 px (page, list, detail): {overflow}"
    await page.screenshot(path=str(ARTIFACTS / "console-800px.png"), full_page=True)
    assert not errors, errors


async def _full_entry(app: RunningApp) -> dict[str, Any]:
    """An entry with what the case file shows: original script, aliases, documents, summary."""
    personal_data("PETROV", "IVAN", "Иван Петров", "PETROFF", "753100200")
    data = EntryIn.model_validate({
        "notice": {"type": "red", "reference": f"2026/{uuid.uuid4().hex[:8]}-R"},
        "owner_bureau": "FRA",
        "subject": {
            "surname": "PETROV", "given_names": "IVAN", "name_original": "Иван Петров",
            "aliases": [{"surname": "PETROFF", "given_names": "JOHN"}],
            "date_of_birth": "1970-03",
            "documents": [{"type": "P", "number": "753100200", "issuing_state": "RUS"}],
        },
        "case": {"category": "nuclear_smuggling", "requested_action": "discreet_check",
                 "summary": "Suspected courier of radioactive sources."},
        "distribution": {"mode": "all", "allow": [], "deny": []},
    })
    async with app.sessions() as session:
        return await watchlist.create_entry(session, CLI_ACTOR, data)


async def test_detail_case_file_map_and_print(app: RunningApp, browser: BrowserContext) -> None:
    entry = await _full_entry(app)
    hits = []
    # Two bookings (two arcs), one crossing placed by its event (one mark), one that is not.
    for n, (kind, at, extra) in enumerate([
        ("travel_booking", "2026-11-20T08:00:00+00:00",
         {"flight": {"origin": "FRA", "transit": ["IST"], "destination": "TAS"}}),
        ("border_crossing", "2026-11-21T08:00:00+00:00",
         {"crossing": {"point": "POL-A2", "direction": "entry",
                       "location": {"lat": 52.35, "lon": 14.55}}}),
        ("border_crossing", "2026-11-22T08:00:00+00:00",
         {"crossing": {"point": "AUT-X9", "direction": "exit"}}),
        ("travel_booking", "2026-11-23T08:00:00+00:00",
         {"flight": {"origin": "VIE", "destination": "CDG"}}),
    ]):
        hit = make_hit(entry, country="DEU", event_id=f"map-{n}-{uuid.uuid4().hex}")
        hit.event.update(kind=kind, occurred_at=at, **extra)
        if kind == "travel_booking":
            del hit.event["crossing"]
        # As the matcher writes it for a strong name whose dates of birth disagree.
        hit.explanation.append({
            "feature": "date_of_birth", "score": 0.0, "query": "1970-03-14",
            "candidate": "1963-03-14", "agreement": "far",
            "detail": "same day and month, year differs by 7 (listed 1963-03-14, traveller "
                      "1970-03-14)"})
        hits.append(hit)
    alerts = await emit(app.sessions, app.bus, hits)
    fra = await make_token(app.sessions, "bureau", "FRA")
    async with httpx2.AsyncClient(base_url=app.http, timeout=10) as http:
        r = await http.post(
            f"/v1/alerts/{alerts[0]['id']}/transitions",
            json={"status": "acknowledged", "note": "desk informed"},
            headers={"Authorization": f"Bearer {fra}"},
        )
        assert r.status_code == 200, r.text

    page = await browser.new_page()
    errors: list[str] = []
    await _sign_in(page, app, fra, errors)
    await page.locator(f"#alerts tbody tr[data-alert-id='{alerts[0]['id']}']").click()
    detail = page.locator("#detail")
    case = detail.locator("dl.case")
    await expect(case).to_contain_text("nuclear_smuggling")
    await expect(case).to_contain_text("Иван Петров")
    await expect(case).to_contain_text("JOHN PETROFF")
    await expect(case).to_contain_text("P 753100200 RUS")
    await expect(case.locator(".case-summary")).to_have_text(
        "Suspected courier of radioactive sources."
    )
    await expect(detail.locator(".requested")).to_have_text("discreet check")
    await expect(detail.locator(".officer")).to_have_text("bureau FRA")
    await expect(detail.locator("ol.history")).to_contain_text("desk informed")
    # Why it matched: one row per feature (each with its bar), and the date of birth's
    # comparison in words under its row.
    rows = detail.locator("table.explanation tbody tr.feature")
    await expect(rows).to_have_count(3)
    assert await rows.nth(2).locator(".bar").evaluate("b => b.style.width") == "0px"
    assert await rows.nth(0).locator(".bar").evaluate("b => b.style.width") == "60px"
    await expect(detail.locator("table.explanation tr.feature-detail")).to_have_text(
        "far: same day and month, year differs by 7 (listed 1963-03-14, traveller 1970-03-14)")

    # The map: two arcs, one placed crossing; the list has all four, places written out.
    await expect(page.locator("#map path.arc")).to_have_count(2)
    await expect(page.locator("#map g.point")).to_have_count(1)
    await expect(page.locator("#map g.point.dir-entry")).to_have_count(1)
    assert await page.locator("#map .land path").count() > 150  # the countries were drawn
    items = page.locator("#timeline li")
    await expect(items).to_have_count(4)
    await expect(items.nth(0)).to_contain_text(
        "Frankfurt am Main (FRA), Germany → Arnavutköy, Istanbul (IST), Türkiye"
    )
    await expect(items.nth(1)).to_contain_text("POL-A2, Germany")
    await expect(items.nth(2)).to_contain_text("(not on map)")
    await page.screenshot(path=str(ARTIFACTS / "console-detail.png"))
    await page.locator("#detail .movements").screenshot(path=str(ARTIFACTS / "console-map.png"))

    # Print: the alert's summary on one page, without the list and the controls.
    await page.emulate_media(media="print")
    await expect(page.locator("section#list")).to_be_hidden()
    await expect(page.locator("#detail .actions")).to_be_hidden()
    await page.screenshot(path=str(ARTIFACTS / "console-print.png"), full_page=True)
    pdf = await page.pdf(format="A4")
    (ARTIFACTS / "console-print.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1, f"the printed summary has {pages} pages"
    assert not errors, errors


async def test_radiation_alarm_alert_and_adjudication(
    app: RunningApp, browser: BrowserContext
) -> None:
    # A watchlist subject crosses lane 3 of a road point; a neutron alarm with Pu-239 goes off.
    entry = await make_entry(
        app.sessions, owner="FRA", document="753999077", action="locate_and_detain"
    )
    await app.follows(entry["id"], timeout=10)
    border = await make_token(app.sessions, "border", "DEU")
    deu = await make_token(app.sessions, "bureau", "DEU")
    point = "DEU-POL-A12"
    crossing = alarm_docs.crossing(
        point=point, lane="3", at=alarm_docs.T0 + timedelta(seconds=5),
        surname="PETROV", given_names="IVAN", document="753999077",
    )
    crossing["document"]["issuing_state"] = "RUS"
    alarm = alarm_docs.alarm_json(
        point=point, lane="3", categories=["gamma", "neutron"],
        nuclides=[{"name": "Pu-239", "category": "snm", "confidence": 0.9}],
    )
    page = await browser.new_page()
    errors: list[str] = []
    await _sign_in(page, app, deu, errors)
    async with httpx2.AsyncClient(base_url=app.http, timeout=20) as http:
        bearer = {"Authorization": f"Bearer {border}"}
        r = await http.post("/v1/events", json=crossing, headers=bearer)
        assert r.status_code == 202, r.text
        hit_row = page.locator("#alerts tbody tr").first
        await expect(hit_row).to_be_visible(timeout=15_000)
        r = await http.post("/v1/alarms", json=alarm, headers=bearer)
        assert r.status_code == 202, r.text

    row = page.locator("#alerts tbody tr:has(.chip[data-notice='radiation'])")
    await expect(row).to_have_count(1, timeout=15_000)
    await expect(row.locator(".chip[data-notice]")).to_have_text("radiation alarm")
    await expect(row.locator(".chip[data-severity]")).to_have_text("critical")
    await page.wait_for_function("window.__notes.length >= 1")
    await row.click()
    detail = page.locator("#detail")
    await expect(detail.locator(".categories")).to_have_text("gamma, neutron")
    await expect(detail.locator(".nuclides")).to_contain_text("Pu-239 (snm, 90 %)")
    await expect(detail.locator("table.crossings tbody tr")).to_have_count(1)
    await expect(detail.locator("table.crossings")).to_contain_text("IVAN PETROV")
    await expect(detail.locator("ul.hits li")).to_have_count(1)
    await page.screenshot(path=str(ARTIFACTS / "console-radiation.png"))
    overflow = await page.evaluate(
        "[...document.querySelectorAll('section')].map(e => e.scrollWidth - e.clientWidth)"
    )
    assert max(overflow) <= 0, f"cut off in a pane at 1440 px: {overflow}"

    # Adjudicated from the page by the point's bureau.
    await page.select_option("#adj-code", "contraband_found")
    await page.fill("#adj-isotopes", "Pu-239")
    await page.click("#adj-submit")
    await expect(page.locator("#adj-error")).to_have_text("")
    await expect(detail.locator("dl.alarm")).to_contain_text("contraband_found")
    # The linked hit opens from the alarm.
    await detail.locator("ul.hits a").click()
    await expect(page.locator("#detail dl.case")).to_contain_text("IVAN PETROV")
    assert not errors, errors
