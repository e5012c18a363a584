"""Several and approximate dates of birth on real PostgreSQL: the API (create, PATCH, read,
versions, list), the import (JSONL and CSV through `failsafe watchlist import`, a bad item
rejected with its line while the rest imports), the migration that carries an existing
`date_of_birth` over (PostgreSQL and SQLite), and the follower handing the list to the index."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from alembic import command
from alembic.script import ScriptDirectory

from failsafe.db import migrate
from failsafe.db.models import WatchlistEntry
from failsafe.ingest.follower import WatchlistFollower
from failsafe.kit.codes import PARTIAL_DATE_PATTERN
from tests.conftest import create_database, drop_database, unique_name
from tests.fixtures.app import Api, api_client, auth, run_cli
from tests.fixtures.factories import entry_body, unique_token

pytestmark = pytest.mark.integration
THIS_MIGRATION = "0003_dates_of_birth"


@pytest_asyncio.fixture(scope="module")
async def api(pg_url: str) -> AsyncIterator[Api]:
    async with api_client(pg_url) as api:
        yield api


def body_with(token: str, **subject: Any) -> dict[str, Any]:
    body = entry_body("FRA", surname=token)
    body["subject"] = {k: v for k, v in body["subject"].items() if k != "date_of_birth"}
    body["subject"].update(subject)
    return body


def dates(entry: dict[str, Any]) -> tuple[Any, Any]:
    return entry["subject"]["date_of_birth"], entry["subject"]["dates_of_birth"]


async def test_create_patch_read_versions_and_list(api: Api) -> None:
    analyst = await api.principal("analyst", "FRA")
    token = unique_token().lower()
    body = body_with(
        token,
        date_of_birth="1970-3-14",
        dates_of_birth=[{"circa": 1971}, {"from": 1968, "to": 1972}, "1970-03-14"],
    )
    r = await api.client.post("/v1/watchlist", json=body, headers=auth(analyst))
    assert r.status_code == 201, r.text
    created = r.json()
    entry_id = created["id"]
    first = ("1970-03-14", ["1970-03-14", {"circa": 1971}, {"from": 1968, "to": 1972}])
    assert dates(created) == first

    read = (await api.client.get(f"/v1/watchlist/{entry_id}", headers=auth(analyst))).json()
    assert dates(read) == first

    # A new shorthand replaces the old one's item; the approximate ones stay.
    r = await api.client.patch(
        f"/v1/watchlist/{entry_id}",
        json={"subject": {"date_of_birth": "1969"}},
        headers=auth(analyst),
    )
    assert r.status_code == 200, r.text
    assert dates(r.json()) == ("1969", ["1969", {"circa": 1971}, {"from": 1968, "to": 1972}])

    # A new list replaces the whole list; the shorthand is read off it.
    r = await api.client.patch(
        f"/v1/watchlist/{entry_id}",
        json={"subject": {"dates_of_birth": [{"circa": 1980}]}},
        headers=auth(analyst),
    )
    assert r.status_code == 200, r.text
    assert dates(r.json()) == (None, [{"circa": 1980}])

    # A bad item: a field-level 422 and nothing changes.
    r = await api.client.patch(
        f"/v1/watchlist/{entry_id}",
        json={"subject": {"dates_of_birth": ["1980", {"from": 1990, "to": 1950}]}},
        headers=auth(analyst),
    )
    assert r.status_code == 422, r.text
    locs = [d["loc"] for d in r.json()["error"]["details"]]
    assert ["body", "subject", "dates_of_birth", 1, "range"] in locs
    assert "1990" not in r.text  # field-level errors never quote the value

    r = await api.client.get(f"/v1/watchlist/{entry_id}/versions", headers=auth(analyst))
    history = [dates(v["entry"]) for v in r.json()["items"]]
    assert history == [
        first,
        ("1969", ["1969", {"circa": 1971}, {"from": 1968, "to": 1972}]),
        (None, [{"circa": 1980}]),
    ]
    r = await api.client.get("/v1/watchlist", params={"q": token}, headers=auth(analyst))
    assert [dates(i) for i in r.json()["items"]] == [(None, [{"circa": 1980}])]


async def test_openapi_shows_the_list_and_the_grammar(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    subject = next(v for k, v in schemas.items() if k.startswith("Subject"))
    prop = subject["properties"]["dates_of_birth"]
    assert prop["maxItems"] == 10 and len(prop["items"]["oneOf"]) == 3
    assert "circa" in json.dumps(schemas) and '"from"' in json.dumps(schemas)
    assert json.dumps(PARTIAL_DATE_PATTERN)[1:-1] in json.dumps(spec)


async def stored(api: Api, entry_id: str) -> dict[str, Any]:
    async with api.state.sessionmaker() as s:
        row = await s.get(WatchlistEntry, entry_id)
    assert row is not None
    return row.document


async def test_cli_import_jsonl_and_csv_with_approximate_dates(
    api: Api, pg_url: str, tmp_path: Path
) -> None:
    env = {"FAILSAFE_DATABASE__URL": pg_url}
    token = unique_token().lower()
    lines = [
        {**body_with(token, dates_of_birth=["1966-8-28", {"circa": 1965}]), "id": f"{token}-1"},
        {**body_with(token, dates_of_birth=[{"circa": 1066}]), "id": f"{token}-2"},
        {
            **body_with(token, date_of_birth="1971", dates_of_birth=[{"from": 1969, "to": 1973}]),
            "id": f"{token}-3",
        },
    ]
    jsonl = tmp_path / "dates.jsonl"
    jsonl.write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, out, err = await run_cli("watchlist", "import", str(jsonl), "--json", env=env)
    report = json.loads(out)
    assert code == 1, err  # a line was rejected, the others imported
    assert (report["created"], report["rejected"]) == (2, 1)
    assert [(e["line"], e["reason"].split(":")[0]) for e in report["errors"]] == [
        (2, "subject.dates_of_birth.0.circa.circa")
    ]
    assert dates(await stored(api, f"{token}-1")) == ("1966-08-28", ["1966-08-28", {"circa": 1965}])
    assert dates(await stored(api, f"{token}-3")) == ("1971", ["1971", {"from": 1969, "to": 1973}])

    csv_file = tmp_path / "dates.csv"
    csv_file.write_text(
        "id,notice_type,notice_reference,owner_bureau,surname,requested_action,"
        "date_of_birth,dates_of_birth\n"
        f"{token}-c1,red,CSV/{token}/1,FRA,{token},inform_only,1977,~1975;1976..1980\n"
        f"{token}-c2,red,CSV/{token}/2,FRA,{token},inform_only,,1980..1940\n"
        f"{token}-c3,red,CSV/{token}/3,FRA,{token},inform_only,,1973-1-24; 1977\n"
    )
    code, out, err = await run_cli("watchlist", "import", str(csv_file), "--json", env=env)
    report = json.loads(out)
    assert (report["created"], report["rejected"]) == (2, 1), err
    assert report["errors"][0]["line"] == 3
    assert report["errors"][0]["reason"].startswith("subject.dates_of_birth.0.range")
    assert dates(await stored(api, f"{token}-c1")) == (
        "1977",
        ["1977", {"circa": 1975}, {"from": 1976, "to": 1980}],
    )
    assert dates(await stored(api, f"{token}-c3")) == ("1973-01-24", ["1973-01-24", "1977"])
    # Re-importing approximate dates changes nothing (the stored form reads back the same).
    code, out, _ = await run_cli("watchlist", "import", str(csv_file), env=env)
    assert out.splitlines()[0] == "created 0, updated 0, unchanged 2, rejected 1"


class Recorder:
    """A screener that keeps the dicts the follower hands to the index."""

    def __init__(self) -> None:
        self.given: dict[str, dict[str, Any]] = {}

    def add_many(self, entries: list[dict[str, Any]], more: bool = False) -> None:
        for e in entries:
            self.given[e["id"]] = e

    def upsert(self, entry: dict[str, Any]) -> None:
        self.given[entry["id"]] = entry

    def remove(self, entry_id: str) -> None:
        self.given.pop(entry_id, None)

    def screen(self, query: Any, threshold: float, limit: int | None) -> list[Any]:
        return []


async def test_the_follower_hands_the_list_to_the_index(api: Api) -> None:
    analyst = await api.principal("analyst", "FRA")
    token = unique_token().lower()
    body = body_with(token, date_of_birth="1985", dates_of_birth=[{"circa": 1986}])
    r = await api.client.post("/v1/watchlist", json=body, headers=auth(analyst))
    entry_id = r.json()["id"]
    recorder = Recorder()
    await WatchlistFollower(api.state.sessionmaker, recorder).load()
    subject = recorder.given[entry_id]["subject"]
    assert (subject["date_of_birth"], subject["dates_of_birth"]) == (
        "1985",
        ["1985", {"circa": 1986}],
    )


# --- the migration -----------------------------------------------------------------------------

# Documents as the code before this migration stored them: the shorthand only, absent when none.
OLD_DOCS = {
    "old-with-dob": {"surname": "GRAVES", "given_names": "ADA", "date_of_birth": "1961-04"},
    "old-without": {"surname": "GRAVES", "given_names": "BEA"},
}


def old_document(entry_id: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": entry_id,
        "notice": {"type": "green", "reference": f"MIG/{entry_id}"},
        "owner_bureau": "FRA",
        "subject": {**subject, "aliases": [], "nationalities": [], "documents": []},
        "case": {"requested_action": "inform_only"},
        "distribution": {"mode": "all", "allow": [], "deny": []},
        "status": "active",
        "version": 1,
        "revision": 0,
        "created_at": "2026-11-01T00:00:00+00:00",
        "updated_at": "2026-11-01T00:00:00+00:00",
        "created_by": None,
        "updated_by": None,
    }


def previous_revision(url: str) -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    down = script.get_revision(THIS_MIGRATION).down_revision
    assert isinstance(down, str)
    return down


async def test_the_migration_carries_date_of_birth_over_on_postgresql(pg_server: str) -> None:
    name = unique_name("failsafe_mig")
    url = await create_database(pg_server, name)
    try:
        await asyncio.to_thread(migrate.upgrade, url, previous_revision(url))
        conn = await asyncpg.connect(f"{pg_server}/{name}")
        try:
            for revision, (entry_id, subject) in enumerate(OLD_DOCS.items(), start=1):
                doc = {**old_document(entry_id, subject), "revision": revision}
                await conn.execute(
                    "INSERT INTO watchlist_entry (id, notice_type, notice_reference, owner_bureau,"
                    " status, distribution_mode, version, revision, search_text, document,"
                    " created_at, updated_at) VALUES ($1, 'green', $2, 'FRA', 'active', 'all', 1,"
                    " $3, '', $4::jsonb, now(), now())",
                    entry_id,
                    doc["notice"]["reference"],
                    revision,
                    json.dumps(doc),
                )
                await conn.execute(
                    "INSERT INTO watchlist_entry_version (entry_id, version, revision, change,"
                    " status, document, changed_at) VALUES ($1, 1, $2, 'create', 'active',"
                    " $3::jsonb, now())",
                    entry_id,
                    revision,
                    json.dumps(doc),
                )
            await conn.execute("UPDATE counter SET value = 2 WHERE name = 'watchlist_revision'")
        finally:
            await conn.close()

        await asyncio.to_thread(migrate.upgrade, url)

        async with api_client(url) as api:
            admin = await api.principal("admin")
            read = (await api.client.get("/v1/watchlist/old-with-dob", headers=auth(admin))).json()
            assert dates(read) == ("1961-04", ["1961-04"])
            read = (await api.client.get("/v1/watchlist/old-without", headers=auth(admin))).json()
            assert dates(read) == (None, [])
            r = await api.client.get("/v1/watchlist/old-with-dob/versions", headers=auth(admin))
            assert dates(r.json()["items"][0]["entry"]) == ("1961-04", ["1961-04"])
            # The index gets the list.
            recorder = Recorder()
            await WatchlistFollower(api.state.sessionmaker, recorder).load()
            assert recorder.given["old-with-dob"]["subject"]["dates_of_birth"] == ["1961-04"]
            # Re-importing what was imported before the migration changes nothing.
            lines = "".join(
                json.dumps(
                    {
                        k: v
                        for k, v in old_document(i, s).items()
                        if k in ("id", "notice", "owner_bureau", "subject", "case", "distribution")
                    }
                )
                + "\n"
                for i, s in OLD_DOCS.items()
            )
            r = await api.client.post("/v1/watchlist/import", content=lines, headers=auth(admin))
            assert (r.json()["unchanged"], r.json()["rejected"]) == (2, 0), r.text

        # Downgrade: the list goes, the shorthand stays.
        cfg = migrate.alembic_config(url)
        await asyncio.to_thread(command.downgrade, cfg, previous_revision(url))
        conn = await asyncpg.connect(f"{pg_server}/{name}")
        try:
            rows = await conn.fetch("SELECT id, document FROM watchlist_entry ORDER BY id")
            versions = await conn.fetch("SELECT document FROM watchlist_entry_version")
        finally:
            await conn.close()
        subjects = {r["id"]: json.loads(r["document"])["subject"] for r in rows}
        assert subjects["old-with-dob"]["date_of_birth"] == "1961-04"
        assert "date_of_birth" not in subjects["old-without"]
        assert not any("dates_of_birth" in s for s in subjects.values())
        assert not any("dates_of_birth" in json.loads(v["document"])["subject"] for v in versions)
    finally:
        await drop_database(pg_server, name)


def test_the_migration_carries_date_of_birth_over_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "mig.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url, previous_revision(url))
    with sqlite3.connect(path) as db:
        for revision, (entry_id, subject) in enumerate(OLD_DOCS.items(), start=1):
            doc = json.dumps({**old_document(entry_id, subject), "revision": revision})
            db.execute(
                "INSERT INTO watchlist_entry (id, notice_type, notice_reference, owner_bureau,"
                " status, distribution_mode, version, revision, search_text, document,"
                " created_at, updated_at) VALUES (?, 'green', ?, 'FRA', 'active', 'all', 1, ?,"
                " '', ?, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
                (entry_id, f"MIG/{entry_id}", revision, doc),
            )
            db.execute(
                "INSERT INTO watchlist_entry_version (entry_id, version, revision, change,"
                " status, document, changed_at) VALUES (?, 1, ?, 'create', 'active', ?,"
                " '2026-11-01 00:00:00')",
                (entry_id, revision, doc),
            )
    migrate.upgrade(url)
    with sqlite3.connect(path) as db:
        docs = {
            i: json.loads(d)["subject"]
            for i, d in db.execute("SELECT id, document FROM watchlist_entry")
        }
        versions = [
            json.loads(d)["subject"]
            for (d,) in db.execute("SELECT document FROM watchlist_entry_version ORDER BY revision")
        ]
    assert dates({"subject": docs["old-with-dob"]}) == ("1961-04", ["1961-04"])
    assert dates({"subject": docs["old-without"]}) == (None, [])
    assert [v["dates_of_birth"] for v in versions] == [["1961-04"], []]
    command.downgrade(migrate.alembic_config(url), previous_revision(url))
    with sqlite3.connect(path) as db:
        docs = {
            i: json.loads(d)["subject"]
            for i, d in db.execute("SELECT id, document FROM watchlist_entry")
        }
    assert docs["old-with-dob"] == {
        **OLD_DOCS["old-with-dob"],
        "aliases": [],
        "nationalities": [],
        "documents": [],
    }
    assert "date_of_birth" not in docs["old-without"]
