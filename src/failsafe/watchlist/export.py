"""Watchlist export: every entry as a JSONL line or a CSV row that `failsafe watchlist import`
reads back unchanged.

A record is the entry's id, its contract fields (failsafe.watchlist.schemas.CONTRACT_KEYS) as
stored, and its stored status (`active` or `cancelled`; an expired notice is active with a past
`notice.expires_at`). What the server derives (version, revision, timestamps, cancellation) is
not exported: an import makes its own.

Invariants:
- Export → import into an empty database → export gives the same bytes. Each record is checked
  before it is written: read back as the importer reads it (JSON, or the CSV cell syntax of
  failsafe.watchlist.importer), it must validate to the same contract fields, id and status. A
  record that would not (a CSV cell cannot hold a name with `;`, or an alias with both a full
  name and its parts) is not written but reported by id (ids are not personal data), so a
  partial export never passes for a whole one.
- JSONL keys are sorted and entries ordered by id, so the same list gives the same file.
- Entries are read in pages by id: memory stays bounded whatever the size of the list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from failsafe.db.models import WatchlistEntry
from failsafe.watchlist.documents import contract_of
from failsafe.watchlist.importer import CSV_COLUMNS, csv_record
from failsafe.watchlist.schemas import EntryIn

ExportFormat = Literal["jsonl", "csv"]
PAGE = 500


@dataclass
class ExportReport:
    exported: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (entry id, why)


def export_record(entry_id: str, document: dict[str, Any], status: str) -> dict[str, Any]:
    """The import line of one stored entry."""
    return {"id": entry_id, **contract_of(document), "status": status}


def jsonl_line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"


def _birth_cell(item: Any) -> str:
    if isinstance(item, dict) and "circa" in item:
        return f"~{item['circa']}"
    if isinstance(item, dict):
        return f"{item['from']}..{item['to']}"
    return str(item)


def _alias_cell(alias: dict[str, str]) -> str:
    if "full_name" in alias:
        return alias["full_name"]
    return f"{alias.get('surname', '')}, {alias.get('given_names', '')}"


def _document_cell(doc: dict[str, str]) -> str:
    parts = [doc["type"], doc["number"], doc["issuing_state"]]
    if doc.get("expiry_date"):
        parts.append(doc["expiry_date"])
    return ":".join(parts)


def csv_row(record: dict[str, Any]) -> dict[str, str]:
    """The record in the importer's CSV columns (`date_of_birth` is left to the list's first
    date, as the importer derives it)."""
    notice = record["notice"]
    subject = record["subject"]
    case = record["case"]
    distribution = record.get("distribution") or {}

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return {
        "id": record["id"],
        "notice_type": notice["type"],
        "notice_reference": notice["reference"],
        "notice_issued_at": text(notice.get("issued_at")),
        "notice_expires_at": text(notice.get("expires_at")),
        "owner_bureau": text(record.get("owner_bureau")),
        "surname": text(subject.get("surname")),
        "given_names": text(subject.get("given_names")),
        "full_name": text(subject.get("full_name")),
        "name_original": text(subject.get("name_original")),
        "date_of_birth": "",
        "dates_of_birth": ";".join(_birth_cell(d) for d in subject.get("dates_of_birth", [])),
        "sex": text(subject.get("sex")),
        "nationalities": ";".join(subject.get("nationalities", [])),
        "aliases": ";".join(_alias_cell(a) for a in subject.get("aliases", [])),
        "documents": ";".join(_document_cell(d) for d in subject.get("documents", [])),
        "case_category": text(case.get("category")),
        "case_summary": text(case.get("summary")),
        "requested_action": case["requested_action"],
        "distribution_mode": text(distribution.get("mode")),
        "distribution_allow": ";".join(distribution.get("allow", [])),
        "distribution_deny": ";".join(distribution.get("deny", [])),
        "status": record["status"],
    }


def _reads_back(record: dict[str, Any], parsed: dict[str, Any]) -> str | None:
    """None when `parsed` (the record as the importer reads it) is the same entry; else why not."""
    try:
        data = EntryIn.model_validate(parsed)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        return f"would not import: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    if data.id != record["id"] or data.status != record["status"]:
        return "would not import as the same id and status"
    if data.contract_fields() != {k: v for k, v in record.items() if k not in ("id", "status")}:
        return "would not import unchanged (a field the format cannot hold)"
    return None


def encode(record: dict[str, Any], fmt: ExportFormat) -> tuple[bytes | dict[str, str], str | None]:
    """The record as written (a JSONL line, or a CSV row) and why it would not round-trip."""
    if fmt == "jsonl":
        line = jsonl_line(record)
        return line, _reads_back(record, orjson.loads(line))
    row = csv_row(record)
    try:
        parsed = csv_record(_through_csv(row))
    except ValueError as exc:
        return row, f"would not import: {exc}"
    return row, _reads_back(record, parsed)


def _through_csv(row: dict[str, str]) -> dict[str, str]:
    """The row written and read back by the csv module (quoting, embedded newlines)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writerow(row)
    buffer.seek(0)
    return next(csv.DictReader(buffer, fieldnames=CSV_COLUMNS))


async def _entries(session: AsyncSession) -> AsyncIterator[tuple[str, dict[str, Any], str]]:
    e = WatchlistEntry
    after = ""
    while True:
        rows = (
            await session.execute(
                select(e.id, e.document, e.status).where(e.id > after).order_by(e.id).limit(PAGE)
            )
        ).all()
        for row in rows:
            yield row.id, row.document, row.status
        if len(rows) < PAGE:
            return
        after = rows[-1].id


async def export_entries(
    session: AsyncSession,
    fmt: ExportFormat,
    write: Callable[[bytes], object],
) -> ExportReport:
    """Write every entry, ordered by id, through `write` (bytes, UTF-8); the report counts them
    and lists those left out. The caller audits the export (it reads personal data)."""
    report = ExportReport()
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, lineterminator="\n")
    if fmt == "csv":
        writer.writeheader()
    async for entry_id, document, status in _entries(session):
        encoded, problem = encode(export_record(entry_id, document, status), fmt)
        if problem is not None:
            report.skipped.append((entry_id, problem))
            continue
        if isinstance(encoded, bytes):
            write(encoded)
        else:
            writer.writerow(encoded)
        report.exported += 1
        if text.tell():
            write(text.getvalue().encode("utf-8"))
            text.seek(0)
            text.truncate()
    if text.tell():
        write(text.getvalue().encode("utf-8"))
    return report
