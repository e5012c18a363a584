"""Every path that cancels a watchlist entry withdraws its open alerts, and only its open ones:
`POST /v1/watchlist/{id}/cancel`, an NDJSON import line with `"status": "cancelled"` through the
API, and the same line through `failsafe watchlist import`. Each withdrawal is an audited
transition in the cancelling transaction; the API paths publish it on the bus. PATCH cannot
cancel (422), so it withdraws nothing."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from failsafe.db.models import Alert, AlertTransition
from failsafe.watchlist import service
from tests.fixtures.app import Api, api_client, auth, run_cli
from tests.fixtures.factories import entry_body, insert_alert, unique_token

pytestmark = pytest.mark.integration

OPEN = ("new", "acknowledged", "in_review", "confirmed")
FINISHED = ("action_reported", "false_positive", "closed")


@pytest_asyncio.fixture(scope="module")
async def api(pg_url: str) -> AsyncIterator[Api]:
    async with api_client(pg_url) as api:
        yield api


async def _entry_with_alerts(api: Api, admin: str) -> tuple[dict[str, Any], dict[str, int]]:
    """An entry (FRA) with one alert in each status that matters: the open ones and the others."""
    body = entry_body("FRA", entry_id=f"{unique_token().lower()}-w")
    r = await api.client.post("/v1/watchlist", json=body, headers=auth(admin))
    assert r.status_code == 201, r.text
    entry = r.json()
    ids = {
        status: await insert_alert(api.sessions, entry["id"], status=status)
        for status in (*OPEN, *FINISHED)
    }
    return entry, ids


async def _statuses(api: Api, ids: dict[str, int]) -> dict[str, str]:
    async with api.sessions() as s:
        rows = (await s.scalars(select(Alert).where(Alert.id.in_(ids.values())))).all()
    by_id = {row.id: row.status for row in rows}
    return {status: by_id[alert_id] for status, alert_id in ids.items()}


async def _withdrawals(api: Api, ids: dict[str, int]) -> list[int]:
    async with api.sessions() as s:
        rows = await s.scalars(
            select(AlertTransition.alert_id)
            .where(
                AlertTransition.alert_id.in_(ids.values()),
                AlertTransition.to_status == "withdrawn",
            )
            .order_by(AlertTransition.alert_id)
        )
        return list(rows)


def _line(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry as an import line that cancels it."""
    keep = ("id", "notice", "owner_bureau", "subject", "case", "distribution")
    return {**{k: entry[k] for k in keep if k in entry}, "status": "cancelled"}


async def _cancel_by_api(api: Api, admin: str, entry: dict[str, Any], _: Path, __: str) -> None:
    r = await api.client.post(
        f"/v1/watchlist/{entry['id']}/cancel", json={}, headers=auth(admin)
    )
    assert r.status_code == 200, r.text


async def _cancel_by_api_import(
    api: Api, admin: str, entry: dict[str, Any], _: Path, __: str
) -> None:
    r = await api.client.post(
        "/v1/watchlist/import", content=json.dumps(_line(entry)) + "\n", headers=auth(admin)
    )
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == 1, r.text


async def _cancel_by_cli_import(
    api: Api, admin: str, entry: dict[str, Any], tmp: Path, pg_url: str
) -> None:
    path = tmp / "cancel.jsonl"
    path.write_text(json.dumps(_line(entry)) + "\n", encoding="utf-8")
    code, out, err = await run_cli(
        "watchlist", "import", str(path), env={"FAILSAFE_DATABASE__URL": pg_url}
    )
    assert code == 0, err
    assert out.splitlines()[0] == "created 0, updated 1, unchanged 0, rejected 0"


Canceller = Callable[[Api, str, dict[str, Any], Path, str], Awaitable[None]]


@pytest.mark.parametrize(
    ("cancel", "published"),
    [(_cancel_by_api, True), (_cancel_by_api_import, True), (_cancel_by_cli_import, False)],
    ids=["api-cancel", "api-import", "cli-import"],
)
async def test_every_cancelling_path_withdraws_the_open_alerts(
    api: Api, pg_url: str, tmp_path: Path, cancel: Canceller, published: bool
) -> None:
    admin = await api.principal("admin")
    entry, ids = await _entry_with_alerts(api, admin)
    open_ids = {ids[s] for s in OPEN}
    updates: list[dict[str, Any]] = []

    async def listen() -> None:
        async for alert in api.bus.subscribe():
            if alert["id"] in open_ids:
                updates.append(alert)
                if len(updates) == len(OPEN):
                    return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)  # subscribed before the cancel publishes
    try:
        await cancel(api, admin, entry, tmp_path, pg_url)
        if published:
            await asyncio.wait_for(listener, 10)
    finally:
        listener.cancel()

    r = await api.client.get(f"/v1/watchlist/{entry['id']}", headers=auth(admin))
    assert r.json()["status"] == "cancelled"
    statuses = await _statuses(api, ids)
    assert statuses == {**{s: "withdrawn" for s in OPEN}, **{s: s for s in FINISHED}}
    assert await _withdrawals(api, ids) == sorted(ids[s] for s in OPEN)
    if published:
        assert sorted((u["id"], u["status"]) for u in updates) == sorted(
            (ids[s], "withdrawn") for s in OPEN
        )


async def test_patch_cannot_cancel_and_withdraws_nothing(api: Api) -> None:
    admin = await api.principal("admin")
    entry, ids = await _entry_with_alerts(api, admin)
    r = await api.client.patch(
        f"/v1/watchlist/{entry['id']}", json={"status": "cancelled"}, headers=auth(admin)
    )
    assert r.status_code == 422, r.text
    assert await _statuses(api, ids) == {s: s for s in (*OPEN, *FINISHED)}
    assert await _withdrawals(api, ids) == []


def test_cancelling_paths_share_one_withdrawal_helper() -> None:
    """Only `withdraw_alerts_of` calls the alerts service's withdrawal (a new cancelling path
    must go through it, not around it)."""
    import failsafe

    root = Path(failsafe.__file__).parent
    callers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "withdraw_open_alerts(" in path.read_text(encoding="utf-8")
    )
    assert callers == ["alerts/service.py", "watchlist/service.py"]
    source = (root / "watchlist" / "service.py").read_text(encoding="utf-8")
    assert source.count("withdraw_open_alerts(") == 1
    assert "withdraw_open_alerts(" in inspect.getsource(service.withdraw_alerts_of)
