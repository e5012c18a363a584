"""Bulk import through the API (NDJSON) and the CLI (JSONL, CSV) on real PostgreSQL: bad lines
are reported by number and never stop good ones; re-importing changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from failsafe.db import counters
from failsafe.db.models import AuditLog, WatchlistEntry, WatchlistEntryVersion
from tests.fixtures.app import Api, api_client, auth, run_cli
from tests.fixtures.factories import entry_body, insert_alert, unique_token

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module")
async def api(pg_url: str) -> AsyncIterator[Api]:
    async with api_client(pg_url) as api:
        yield api


async def revision_now(api: Api) -> int:
    async with api.state.sessionmaker() as s:
        return await counters.current_value(s, counters.WATCHLIST_REVISION)


async def version_count(api: Api, ids: list[str]) -> int:
    async with api.state.sessionmaker() as s:
        n = await s.scalar(select(func.count()).where(WatchlistEntryVersion.entry_id.in_(ids)))
    return int(n or 0)


def ndjson(lines: list[Any]) -> str:
    return "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)


async def test_api_import_with_bad_lines_then_reimport_is_unchanged(api: Api) -> None:
    analyst = await api.principal("analyst", "FRA")
    token = unique_token().lower()
    good = [entry_body(None, surname=token, entry_id=f"{token}-{i}") for i in range(3)]
    no_id = entry_body("FRA", surname=token, reference=f"REF/{token}")
    lines: list[Any] = [
        good[0],
        "{not json",
        good[1],
        "",  # blank lines are skipped, but still counted
        {**good[2], "subject": {"surname": "X", "date_of_birth": "1974-02-30"}},
        ["an", "array"],
        entry_body("DEU", entry_id=f"{token}-deu"),  # not the analyst's bureau
        good[2],
        no_id,
    ]
    body = ndjson(lines)
    r = await api.client.post("/v1/watchlist/import", content=body, headers=auth(analyst))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (4, 0, 0)
    assert report["rejected"] == 4
    assert [(e["line"], e["reason"].split(":")[0]) for e in report["errors"]] == [
        (2, "not valid JSON"),
        (5, "subject.date_of_birth"),
        (6, "not a JSON object"),
        (7, "owner_bureau must be the caller's bureau"),
    ]
    ids = [g["id"] for g in good]
    for entry_id in ids:
        read = await api.client.get(f"/v1/watchlist/{entry_id}", headers=auth(analyst))
        assert read.status_code == 200 and read.json()["owner_bureau"] == "FRA"
    versions, revision = await version_count(api, ids), await revision_now(api)
    assert versions == 3

    again = (
        await api.client.post("/v1/watchlist/import", content=body, headers=auth(analyst))
    ).json()
    assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (
        0,
        0,
        4,
        4,
    )
    assert await version_count(api, ids) == versions
    assert await revision_now(api) == revision

    # A changed line updates (matched by id, or by notice reference without one); a
    # `cancelled` status cancels; the same id twice in one file gives two versions.
    changed = {**good[0], "case": {**good[0]["case"], "summary": "updated"}}
    cancelled = {**good[1], "status": "cancelled"}
    by_ref = {**no_id, "case": {**no_id["case"], "requested_action": "inform_only"}}
    twice = {**good[2], "case": {**good[2]["case"], "summary": "second"}}
    body2 = ndjson(
        [
            changed,
            cancelled,
            by_ref,
            twice,
            {**twice, "case": {**twice["case"], "summary": "third"}},
        ]
    )
    r2 = (
        await api.client.post("/v1/watchlist/import", content=body2, headers=auth(analyst))
    ).json()
    assert (r2["created"], r2["updated"], r2["unchanged"], r2["rejected"]) == (0, 5, 0, 0)
    assert await revision_now(api) == revision + 5
    doc1 = (await api.client.get(f"/v1/watchlist/{ids[1]}", headers=auth(analyst))).json()
    assert (doc1["status"], doc1["version"]) == ("cancelled", 2)
    doc2 = (await api.client.get(f"/v1/watchlist/{ids[2]}", headers=auth(analyst))).json()
    assert (doc2["version"], doc2["case"]["summary"]) == (3, "third")
    hits = (
        await api.client.get("/v1/watchlist", params={"q": token}, headers=auth(analyst))
    ).json()["items"]
    ref_entry = next(e for e in hits if e["notice"]["reference"] == f"REF/{token}")
    assert (ref_entry["version"], ref_entry["case"]["requested_action"]) == (2, "inform_only")
    # Without a status, re-importing the original line does not resurrect the cancelled entry.
    r3 = (
        await api.client.post(
            "/v1/watchlist/import", content=ndjson([good[1]]), headers=auth(analyst)
        )
    ).json()
    assert r3["unchanged"] == 1
    # Every change is audited, and so is the import.
    async with api.state.sessionmaker() as s:
        actions = (
            await s.scalars(select(AuditLog.action).where(AuditLog.object_id == ids[1]))
        ).all()
        imports = await s.scalar(select(func.count()).where(AuditLog.action == "watchlist.import"))
    # (two reads above are audited as well)
    assert sorted(actions) == [
        "watchlist.cancel",
        "watchlist.create",
        "watchlist.read",
        "watchlist.read",
    ]
    assert imports and imports >= 4


async def test_api_import_rejects_an_oversized_line_and_keeps_going(api: Api) -> None:
    admin = await api.principal("admin")
    token = unique_token().lower()
    good = entry_body("FRA", entry_id=f"{token}-ok")
    body = "x" * 300_000 + "\n" + json.dumps(good) + "\n"
    r = await api.client.post("/v1/watchlist/import", content=body, headers=auth(admin))
    report = r.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["line"] == 1


async def test_cli_import_jsonl_and_csv(api: Api, pg_url: str, tmp_path: Path) -> None:
    env = {"FAILSAFE_DATABASE__URL": pg_url}
    token = unique_token().lower()
    jsonl = tmp_path / "list.jsonl"
    jsonl.write_text(
        ndjson(
            [
                entry_body("FRA", surname=token, entry_id=f"{token}-1"),
                entry_body("FRA", surname=token, entry_id=f"{token}-2", notice_type="mauve"),
                entry_body(None, surname=token, entry_id=f"{token}-3"),  # admin: owner needed
                entry_body("ITA", surname=token, entry_id=f"{token}-4"),
            ]
        )
    )
    code, out, err = await run_cli("watchlist", "import", str(jsonl), env=env)
    assert code == 1, err  # some lines were rejected
    assert out.splitlines()[0] == "created 2, updated 0, unchanged 0, rejected 2"
    assert "line 2: notice.type" in out and "line 3: owner_bureau is required" in out
    assert "importing" in err  # the progress bar is on stderr
    code, out, _ = await run_cli("watchlist", "import", str(jsonl), env=env)
    assert out.splitlines()[0] == "created 0, updated 0, unchanged 2, rejected 2"

    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "id,notice_type,notice_reference,owner_bureau,surname,given_names,aliases,documents,"
        "requested_action,nationalities,distribution_mode,distribution_allow\n"
        f'{token}-c1,red,CSV/{token}/1,DEU,MÜLLER,HANS,"MUELLER, H; HANS {token}",'
        "P:C01X00T47:D,inform_only,D;DEU,restricted,ITA\n"
        f"{token}-c2,red,CSV/{token}/2,DEU,{token},,,P:1:2:3:4:5,inform_only,,,\n"
    )
    code, out, err = await run_cli("watchlist", "import", str(csv_file), "--json", env=env)
    report = json.loads(out)
    assert (report["created"], report["rejected"]) == (1, 1), err
    assert report["errors"][0]["line"] == 3
    async with api.state.sessionmaker() as s:
        row = await s.get(WatchlistEntry, f"{token}-c1")
    assert row is not None
    assert row.document["subject"]["aliases"] == [
        {"surname": "MUELLER", "given_names": "H"},
        {"full_name": f"HANS {token}"},
    ]
    assert row.document["subject"]["documents"][0]["issuing_state"] == "D"
    assert (row.distribution_mode, row.distribution_allow) == ("restricted", " ITA ")
    assert row.created_by == "cli"
    code, out, _ = await run_cli("watchlist", "import", str(csv_file), env=env)
    assert out.splitlines()[0] == "created 0, updated 0, unchanged 1, rejected 1"


async def test_cancelling_through_an_import_withdraws_open_alerts(api: Api) -> None:
    from failsafe.db.models import Alert

    admin = await api.principal("admin")
    token = unique_token().lower()
    line = entry_body("FRA", entry_id=f"{token}-w")
    r = await api.client.post("/v1/watchlist/import", content=ndjson([line]), headers=auth(admin))
    assert r.json()["created"] == 1
    alert_id = await insert_alert(
        api.sessions, line["id"], event_id=f"{token}-ev", status="acknowledged", recipients=["FRA"]
    )
    cancel = ndjson([{**line, "status": "cancelled"}])
    r = await api.client.post("/v1/watchlist/import", content=cancel, headers=auth(admin))
    assert r.json()["updated"] == 1
    async with api.state.sessionmaker() as s:
        alert = await s.get(Alert, alert_id)
    assert alert is not None and alert.status == "withdrawn"
