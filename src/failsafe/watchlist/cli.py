"""`failsafe watchlist import FILE`: bulk import from JSONL or CSV with a progress bar;
`failsafe watchlist export [FILE]`: every entry in the same formats, read back unchanged."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from failsafe.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from failsafe.watchlist.importer import Record
    from failsafe.watchlist.schemas import ImportReport

watchlist_app = typer.Typer(no_args_is_help=True, help="The watchlist: bulk import and export.")


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
    return count


@watchlist_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: str | None = typer.Option(
        None, "--format", help="jsonl or csv [default: from the file name; jsonl otherwise]."
    ),
    batch_size: int = typer.Option(1000, min=1, max=10_000, help="Entries per transaction."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import entries (created, updated or unchanged; bad lines rejected with their reason).

    Idempotent: importing the same file again changes nothing. Exit status 1 when some lines
    were rejected (the good ones are imported anyway), 2 for an unusable file."""
    from failsafe.actor import CLI_ACTOR
    from failsafe.auth.cli import run_with_session
    from failsafe.watchlist.bulk import record_import
    from failsafe.watchlist.importer import Importer, iter_csv, iter_jsonl

    # No logging set-up: stderr belongs to the progress bar (warnings still show).
    settings = get_settings()
    kind = (fmt or ("csv" if file.suffix.lower() == ".csv" else "jsonl")).lower()
    if kind not in ("jsonl", "ndjson", "json", "csv"):
        raise typer.BadParameter("format must be jsonl or csv", param_hint="--format")
    total = _count_lines(file)

    def records() -> Iterator[Record]:
        if kind == "csv":
            with file.open(encoding="utf-8-sig", newline="") as fh:
                yield from iter_csv(fh)
        else:
            with file.open("rb") as fh:
                yield from iter_jsonl(fh)

    with typer.progressbar(length=total, label="importing", file=sys.stderr) as bar:

        async def work(session: AsyncSession) -> ImportReport:
            importer = Importer(session, CLI_ACTOR, batch_size=batch_size, progress=bar.update)
            for line, record in records():
                await importer.add(line, record)
            report = await importer.finish()
            await record_import(session, CLI_ACTOR, report)
            return report

        try:
            report = run_with_session(settings, work)
        except ValueError as exc:  # an unusable CSV header
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        typer.echo(
            f"created {report.created}, updated {report.updated}, "
            f"unchanged {report.unchanged}, rejected {report.rejected}"
        )
        for rejected in report.errors:
            typer.echo(f"  line {rejected.line}: {rejected.reason}")
    if report.rejected:
        raise typer.Exit(1)


@watchlist_app.command("export")
def export(
    file: Annotated[
        Path | None, typer.Argument(dir_okay=False, help="Where to write [default: stdout].")
    ] = None,
    fmt: str | None = typer.Option(
        None, "--format", help="jsonl or csv [default: from the file name; jsonl otherwise]."
    ),
) -> None:
    """Export every entry (active and cancelled, ordered by id) as `watchlist import` reads it.

    Importing the file into an empty database and exporting again gives the same bytes. An entry
    the format cannot hold unchanged is left out and named on stderr (exit status 1)."""
    from failsafe.actor import CLI_ACTOR
    from failsafe.auth.cli import run_with_session
    from failsafe.watchlist.export import ExportReport, export_entries
    from failsafe.watchlist.service import record_export

    settings = get_settings()
    suffix = file.suffix.lower() if file is not None else ""
    kind = (fmt or ("csv" if suffix == ".csv" else "jsonl")).lower()
    if kind not in ("jsonl", "csv"):
        raise typer.BadParameter("format must be jsonl or csv", param_hint="--format")
    out = file.open("wb") if file is not None else sys.stdout.buffer

    async def work(session: AsyncSession) -> ExportReport:
        report = await export_entries(session, "csv" if kind == "csv" else "jsonl", out.write)
        record_export(session, CLI_ACTOR, kind, report.exported, len(report.skipped))
        await session.commit()
        return report

    try:
        report = run_with_session(settings, work)
    finally:
        if file is not None:
            out.close()
        else:
            out.flush()
    typer.echo(f"exported {report.exported}, left out {len(report.skipped)}", err=True)
    for entry_id, why in report.skipped:
        typer.echo(f"  {entry_id}: {why}", err=True)
    if report.skipped:
        raise typer.Exit(1)
