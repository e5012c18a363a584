"""Bulk import: JSONL/NDJSON and CSV records → validated entries → batches written by `bulk`.

A bad line (unreadable, oversized, invalid) is rejected with its line number and reason and never
stops the good ones. Re-importing the same file changes nothing (see bulk.import_batch).

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
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from failsafe.actor import Actor
from failsafe.kit.bus import AlertBus
from failsafe.kit.validation import validation_details
from failsafe.watchlist.bulk import ImportItem, import_batch
from failsafe.watchlist.schemas import EntryIn, ImportReport, RejectedLine

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


def parse_json_line(raw: bytes, max_line: int = MAX_LINE_BYTES) -> dict[str, Any] | str | None:
    """The object on one line, a rejection reason, or None for a blank line."""
    if len(raw) > max_line:
        return _too_long(max_line)
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


# A line with something other than blanks on it: leading blanks, a non-blank, the rest of the line.
_CONTENT_LINE = re.compile(rb"[^\S\n]*\S[^\n]*")


class NdjsonReader:
    """NDJSON read incrementally: `feed` chunks of any size, get the checked records (line
    number, validated item or rejection) of the lines completed so far; `close` at the end.

    Pure CPU work (splitting, JSON parsing, validation): the API runs `feed` in a worker thread
    so that a large import never stalls the event loop. Costs are bounded per line: blank lines
    are skipped by one regular-expression scan of the chunk (no Python work per blank line), and
    a line longer than `max_line` is rejected once and dropped up to its end, never held."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self.lines = 0  # lines completed so far (the next line is number lines + 1)
        self._pending = bytearray()  # the start of the current, incomplete line
        self._skipping = False  # the current line is too long: dropped up to its newline

    def feed(self, chunk: bytes) -> list[ImportItem | RejectedLine]:
        out: list[ImportItem | RejectedLine] = []
        first = chunk.find(b"\n")
        if first < 0:
            self._extend(chunk, out)
            return out
        self._extend(chunk[:first], out)
        self._end_line(out)
        last = chunk.rfind(b"\n")
        if last > first:
            # Whole lines between the first and the last newline of the chunk.
            middle = chunk[first + 1 : last]
            base, pos, newlines = self.lines, 0, 0
            for m in _CONTENT_LINE.finditer(middle):
                newlines += middle.count(b"\n", pos, m.start())
                pos = m.start()
                out.append(self._check(base + newlines + 1, m.group()))
            self.lines = base + middle.count(b"\n") + 1
        self._extend(chunk[last + 1 :], out)
        return out

    def close(self) -> list[ImportItem | RejectedLine]:
        """The last line, when the input does not end with a newline."""
        out: list[ImportItem | RejectedLine] = []
        if self._pending.strip() and not self._skipping:
            self._end_line(out)
        return out

    def _extend(self, data: bytes, out: list[ImportItem | RejectedLine]) -> None:
        if self._skipping:
            return
        self._pending += data
        if len(self._pending) > self.max_line:
            out.append(RejectedLine(line=self.lines + 1, reason=_too_long(self.max_line)))
            self._pending.clear()
            self._skipping = True

    def _end_line(self, out: list[ImportItem | RejectedLine]) -> None:
        self.lines += 1
        if not self._skipping and self._pending.strip():
            out.append(self._check(self.lines, bytes(self._pending)))
        self._pending.clear()
        self._skipping = False

    def _check(self, line: int, raw: bytes) -> ImportItem | RejectedLine:
        parsed = parse_json_line(raw, self.max_line)
        if isinstance(parsed, dict):
            return to_item(line, parsed)
        return RejectedLine(line=line, reason=parsed or "blank line")


async def coalesce(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """The chunks joined into pieces of at least `size` bytes (the last may be smaller): a client
    sending a byte at a time costs one trip to the worker thread per `size` bytes, not per byte."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _too_long(max_line: int) -> str:
    return f"line longer than {max_line} bytes"


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
        if isinstance(record, str):
            await self.add_checked(RejectedLine(line=line, reason=record))
        else:
            await self.add_checked(to_item(line, record))

    async def add_checked(self, checked: ImportItem | RejectedLine) -> None:
        """A record already validated (`to_item`, `NdjsonReader`)."""
        self._pending += 1
        if isinstance(checked, RejectedLine):
            self._rejected(checked)
        else:
            self._batch.append(checked)
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
