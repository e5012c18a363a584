"""`failsafe watchlist export` on real PostgreSQL: JSONL and CSV that `failsafe watchlist import`
reads back unchanged (export → import into an empty database → export gives the same bytes),
with several and approximate dates of birth, aliases, documents, original-script names, unicode,
cancelled and restricted entries; an entry CSV cannot hold is left out and named, not mangled."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from failsafe.actor import CLI_ACTOR
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import AuditLog
from failsafe.settings import DatabaseSettings
from failsafe.watchlist.export import ExportFormat, export_entries
from failsafe.watchlist.importer import Importer, iter_csv, iter_jsonl
from tests.conftest import personal_data
from tests.fixtures.app import run_cli
from tests.fixtures.factories import fresh_database

pytestmark = pytest.mark.integration


def _entries() -> list[dict[str, Any]]:
    personal_data("ПЕТРОВ", "Иван", "MÜLLER", "Zoë", "O'NEILL", "DUBOIS", "Ōtsuka", "SØRENSEN")
    return [
        {
            "id": "exp-1",
            "notice": {
                "type": "red",
                "reference": "2026/EXP-1",
                "issued_at": "2026-01-02T03:04:05+00:00",
                "expires_at": "2031-01-02T03:04:05+00:00",
            },
            "owner_bureau": "FRA",
            "subject": {
                "surname": "PETROV",
                "given_names": "IVAN",
                "name_original": "Иван ПЕТРОВ",
                "dates_of_birth": ["1970-03-14", {"circa": 1971}, {"from": 1968, "to": 1972}],
                "sex": "M",
                "nationalities": ["RUS", "UKR"],
                "aliases": [{"surname": "PETROFF", "given_names": "JOHN"}, {"full_name": "VANYA"}],
                "documents": [
                    {"type": "P", "number": "753123456", "issuing_state": "RUS"},
                    {
                        "type": "ID",
                        "number": "X1234",
                        "issuing_state": "D",
                        "expiry_date": "2030-05",
                    },
                ],
            },
            "case": {
                "category": "nuclear_smuggling",
                "summary": 'Courier; "careful", uses\ntwo lines and commas, too',
                "requested_action": "locate_and_detain",
            },
            "distribution": {"mode": "restricted", "allow": ["DEU", "ITA"], "deny": ["USA"]},
        },
        {
            "id": "exp-2",
            "notice": {"type": "green", "reference": "2026/EXP-2"},
            "owner_bureau": "DEU",
            "subject": {
                "surname": "MÜLLER",
                "given_names": "Zoë",
                "date_of_birth": "1985",
                "aliases": [{"surname": "O'NEILL"}, {"given_names": "ZOE"}],
            },
            "case": {"requested_action": "inform_only"},
            "status": "cancelled",
        },
        {
            "id": "exp-3",
            "notice": {"type": "diffusion", "reference": "2026/EXP-3"},
            "owner_bureau": "JPN",
            "subject": {
                "full_name": "Ōtsuka DUBOIS",
                "dates_of_birth": [{"from": 1950, "to": 1955}],
                "documents": [{"type": "P", "number": "TK0001", "issuing_state": "JPN"}],
            },
            "case": {"requested_action": "discreet_check"},
        },
    ]


# An alias with a full name and its parts: JSONL holds it, a CSV cell cannot.
ONLY_JSON = {
    "id": "exp-4",
    "notice": {"type": "blue", "reference": "2026/EXP-4"},
    "owner_bureau": "DNK",
    "subject": {
        "surname": "SØRENSEN",
        "aliases": [{"surname": "SORENSEN", "given_names": "LARS", "full_name": "LARS SØRENSEN"}],
    },
    "case": {"requested_action": "inform_only"},
}


async def _import(url: str, path: Path) -> None:
    code, out, err = await run_cli(
        "watchlist", "import", str(path), env={"FAILSAFE_DATABASE__URL": url}
    )
    assert code == 0, (out, err)


async def _export(url: str, path: Path, *, expect: int = 0) -> str:
    code, out, err = await run_cli(
        "watchlist", "export", str(path), env={"FAILSAFE_DATABASE__URL": url}
    )
    assert code == expect, err
    assert out == ""  # the file gets the records, stderr the summary
    return err


async def _import_in_process(url: str, path: Path) -> None:
    """What `watchlist import` does, in this process (each CLI run costs seconds of start-up)."""
    engine = create_engine(DatabaseSettings(url=url))
    try:
        async with create_sessionmaker(engine)() as session:
            importer = Importer(session, CLI_ACTOR)
            if path.suffix == ".csv":
                with path.open(encoding="utf-8-sig", newline="") as fh:
                    records = list(iter_csv(fh))
            else:
                with path.open("rb") as fh:
                    records = list(iter_jsonl(fh))
            for line, record in records:
                await importer.add(line, record)
            report = await importer.finish()
    finally:
        await engine.dispose()
    assert report.rejected == 0, report.errors


async def _export_in_process(url: str, fmt: ExportFormat) -> bytes:
    """What `watchlist export` writes, in this process."""
    out = io.BytesIO()
    engine = create_engine(DatabaseSettings(url=url))
    try:
        async with create_sessionmaker(engine)() as session:
            report = await export_entries(session, fmt, out.write)
    finally:
        await engine.dispose()
    assert report.skipped == []
    return out.getvalue()


async def test_export_round_trips_through_import_byte_for_byte(
    pg_server: str, tmp_path: Path
) -> None:
    source = tmp_path / "source.jsonl"
    source.write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in [*_entries(), ONLY_JSON]),
        encoding="utf-8",
    )
    async with fresh_database(pg_server) as first:
        await _import(first, source)
        jsonl, csv_file = tmp_path / "first.jsonl", tmp_path / "first.csv"
        assert "exported 4, left out 0" in await _export(first, jsonl)
        err = await _export(first, csv_file, expect=1)
        assert "exported 3, left out 1" in err and "exp-4: would not import unchanged" in err
        engine = create_engine(DatabaseSettings(url=first))
        async with create_sessionmaker(engine)() as s:
            audited = list(
                await s.scalars(select(AuditLog).where(AuditLog.action == "watchlist.export"))
            )
        await engine.dispose()
        assert sorted(a.detail["format"] for a in audited) == ["csv", "jsonl"]

    lines = jsonl.read_bytes().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["exp-1", "exp-2", "exp-3", "exp-4"]
    assert [json.loads(x)["status"] for x in lines] == [
        "active",
        "cancelled",
        "active",
        "active",
    ]
    assert "Иван ПЕТРОВ".encode() in lines[0]  # UTF-8, not escapes
    assert json.loads(lines[0])["subject"]["dates_of_birth"] == [
        "1970-03-14",
        {"circa": 1971},
        {"from": 1968, "to": 1972},
    ]

    async with fresh_database(pg_server) as second:
        await _import_in_process(second, jsonl)
        assert await _export_in_process(second, "jsonl") == jsonl.read_bytes()

    async with fresh_database(pg_server) as third:
        await _import_in_process(third, csv_file)
        assert await _export_in_process(third, "csv") == csv_file.read_bytes()
        # What CSV held, it held exactly: the same records as the JSONL export, less exp-4.
        assert (await _export_in_process(third, "jsonl")).splitlines() == lines[:3]
