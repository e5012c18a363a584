"""Bulk import: JSONL/NDJSON and CSV records → validated entries → batches through the service.

A bad line (unreadable, oversized, invalid) is rejected with its line number and reason and never
stops the good ones. Re-importing the same file changes nothing (see service.import_batch).

CSV columns (header required, any order, empty cells omitted; lists separated by `;`):
    id, notice_type, notice_reference, notice_issued_at, notice_expires_at, owner_bureau,
    surname, given_names, full_name, name_original, date_of_birth,
    dates_of_birth (`1970-03-14`, `1970-03` or `1970`; `~1970` for about 1970; `1968..1972` for
    a range of years, both included), sex, nationalities,
    aliases (`SURNAME, GIVEN NAMES` or a full name without a comma),
    documents (`TYPE:NUMBER:STATE` or `TYPE:NUMBER:STATE:EXPIRY`),
    case_category, case_summary, requested_action, distribution_mode, distribution_allow,
    distribution_deny, status
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from failsafe.auth.service import Actor
from failsafe.hub.bus import AlertBus
from failsafe.watchlist.schemas import EntryIn, ImportReport, RejectedLine
from failsafe.watchlist.service import ImportItem, import_batch, validation_details

MAX_LINE_BYTES = 256 * 1024
DEFAULT_BATCH_SIZE = 1000

# A record: its line number and either the parsed object or why it could not be read.
Record = tuple[int, dict[str, Any] | str]

CSV_COLUMNS = (
    "id", "notice_type", "notice_reference", "notice_issued_at", "notice_expires_at",
    "owner_bureau", "surname", "given_names", "full_name", "name_original", "date_of_birth",
    "dates_of_birth", "sex", "nationalities", "aliases", "documents", "case_category",
    "case_summary", "requested_action", "distribution_mode", "distribution_allow",
    "distribution_deny", "status",
)  # fmt: skip


def parse_json_line(raw: bytes) -> dict[str, Any] | str | None:
    """The object on one line, a rejection reason, or None for a blank line."""
    if len(raw) > MAX_LINE_BYTES:
        return f"line longer than {MAX_LINE_BYTES} bytes"
    if not raw.strip():
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "not valid JSON"
    if not isinstance(obj, dict):
        return "not a JSON object"
    return obj


def iter_jsonl(lines: Iterable[bytes]) -> Iterator[Record]:
    for number, raw in enumerate(lines, start=1):
        parsed = parse_json_line(raw)
        if parsed is not None:
            yield number, parsed


async def aiter_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes | None]:
    """Split a byte stream into lines without holding more than one oversized line's prefix:
    an overlong line yields None (rejected by the caller) and is skipped to its end."""
    buffer = b""
    skipping = False
    async for chunk in chunks:
        buffer += chunk
        while True:
            cut = buffer.find(b"\n")
            if cut < 0:
                break
            line, buffer = buffer[:cut], buffer[cut + 1 :]
            if skipping:
                skipping = False
                continue
            yield line
        if len(buffer) > MAX_LINE_BYTES:
            if not skipping:
                yield None
            skipping = True
            buffer = b""
    if buffer and not skipping:
        yield buffer


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _alias(text: str) -> dict[str, str]:
    if "," in text:
        surname, given = (p.strip() for p in text.split(",", 1))
        return {k: v for k, v in (("surname", surname), ("given_names", given)) if v}
    return {"full_name": text}


def _document(text: str) -> dict[str, str]:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (3, 4):
        raise ValueError("documents: expected TYPE:NUMBER:STATE[:EXPIRY]")
    doc = {"type": parts[0], "number": parts[1], "issuing_state": parts[2]}
    if len(parts) == 4 and parts[3]:
        doc["expiry_date"] = parts[3]
    return doc


def _birth_date(text: str) -> str | dict[str, str]:
    """One `dates_of_birth` cell item as the entry contract writes it. Only the syntax is read
    here; the years and dates are validated with the JSON lines, by the same schema."""
    if text.startswith("~"):
        return {"circa": text[1:].strip()}
    if ".." in text:
        start, _, end = text.partition("..")
        return {"from": start.strip(), "to": end.strip()}
    return text


def csv_record(row: dict[str, str]) -> dict[str, Any]:
    """One CSV row as the entry contract's JSON (validation happens afterwards, as for JSONL)."""
    cell = {k: (v or "").strip() for k, v in row.items() if k is not None}

    def pick(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
        return {key: cell[col] for key, col in pairs if cell.get(col)}

    subject: dict[str, Any] = pick(
        (k, k)
        for k in ("surname", "given_names", "full_name", "name_original", "date_of_birth", "sex")
    )
    if cell.get("dates_of_birth"):
        subject["dates_of_birth"] = [_birth_date(d) for d in _split(cell["dates_of_birth"])]
    if cell.get("nationalities"):
        subject["nationalities"] = _split(cell["nationalities"])
    if cell.get("aliases"):
        subject["aliases"] = [_alias(a) for a in _split(cell["aliases"])]
    if cell.get("documents"):
        subject["documents"] = [_document(d) for d in _split(cell["documents"])]
    out: dict[str, Any] = {
        **pick((("id", "id"), ("owner_bureau", "owner_bureau"), ("status", "status"))),
        "notice": pick(
            (
                ("type", "notice_type"),
                ("reference", "notice_reference"),
                ("issued_at", "notice_issued_at"),
                ("expires_at", "notice_expires_at"),
            )
        ),
        "subject": subject,
        "case": pick(
            (
                ("category", "case_category"),
                ("summary", "case_summary"),
                ("requested_action", "requested_action"),
            )
        ),
    }
    distribution: dict[str, Any] = pick((("mode", "distribution_mode"),))
    for key in ("allow", "deny"):
        if cell.get(f"distribution_{key}"):
            distribution[key] = _split(cell[f"distribution_{key}"])
    if distribution:
        out["distribution"] = distribution
    return out


def iter_csv(lines: Iterable[str]) -> Iterator[Record]:
    """Rows of a CSV file with a header; raises ValueError for unknown columns (a whole-file
    mistake, better refused than half-imported)."""
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise ValueError(f"unknown CSV columns: {', '.join(unknown)}")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"unreadable CSV: {exc}"
            continue
        if None in row:
            yield reader.line_num, "more cells than columns"
            continue
        try:
            yield reader.line_num, csv_record(row)
        except ValueError as exc:
            yield reader.line_num, str(exc)


def to_item(line: int, obj: dict[str, Any]) -> ImportItem | RejectedLine:
    try:
        return ImportItem(line=line, data=EntryIn.model_validate(obj))
    except ValidationError as exc:
        details = validation_details(exc)
        first = details[0]
        where = ".".join(str(p) for p in first["loc"]) or "entry"
        more = len(details) - 1
        raw_id = obj.get("id")
        return RejectedLine(
            line=line,
            id=raw_id if isinstance(raw_id, str) and len(raw_id) <= 64 else None,
            reason=f"{where}: {first['msg']}" + (f" (+{more} more)" if more else ""),
            details=details,
        )


class Importer:
    """Feed records with `add`, then `finish` for the report. Each batch is its own transaction;
    `max_errors` bounds the rejected lines kept in the report (the count stays exact)."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_errors: int | None = None,
        progress: Callable[[int], None] | None = None,
        bus: AlertBus | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.batch_size = batch_size
        self.max_errors = max_errors
        self.progress = progress
        self.bus = bus  # where alert withdrawals of cancelled entries are published
        self.report = ImportReport()
        self._batch: list[ImportItem] = []
        self._pending = 0  # records seen since the last progress report

    def _rejected(self, rejected: RejectedLine) -> None:
        self.report.rejected += 1
        if self.max_errors is None or len(self.report.errors) < self.max_errors:
            self.report.errors.append(rejected)

    async def add(self, line: int, record: dict[str, Any] | str) -> None:
        self._pending += 1
        if isinstance(record, str):
            self._rejected(RejectedLine(line=line, reason=record))
        else:
            item = to_item(line, record)
            if isinstance(item, RejectedLine):
                self._rejected(item)
            else:
                self._batch.append(item)
        if len(self._batch) >= self.batch_size:
            await self._flush()
        elif self._pending >= self.batch_size and self.progress is not None:
            self.progress(self._pending)
            self._pending = 0

    async def _flush(self) -> None:
        if self._batch:
            batch_report = ImportReport()
            await import_batch(self.session, self.actor, self._batch, batch_report, self.bus)
            self._batch = []
            self.report.created += batch_report.created
            self.report.updated += batch_report.updated
            self.report.unchanged += batch_report.unchanged
            for rejected in batch_report.errors:
                self._rejected(rejected)
        if self.progress is not None and self._pending:
            self.progress(self._pending)
        self._pending = 0

    async def finish(self) -> ImportReport:
        await self._flush()
        self.report.errors.sort(key=lambda r: r.line)
        return self.report
