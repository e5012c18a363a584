"""`failsafe purge [--dry-run]`: remove closed alerts and sightings past their retention
(failsafe.alerts.retention), once; `serve` can do it periodically."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from failsafe.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from failsafe.alerts.retention import PurgeResult


def purge(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Count what would be removed; remove nothing."
    ),
) -> None:
    """Remove closed alerts (closed, false_positive, withdrawn) and sightings older than
    FAILSAFE_RETENTION__CLOSED_ALERTS_DAYS / __SIGHTINGS_DAYS, in one audited transaction.

    A sighting an open (or still retained) alert refers to is kept. With neither setting,
    nothing is removed (exit status 2)."""
    from failsafe.alerts.retention import purge as run_purge
    from failsafe.auth.cli import run_with_session

    settings = get_settings()
    retention = settings.retention
    if retention.closed_alerts_days is None and retention.sightings_days is None:
        typer.echo(
            "nothing to purge: set FAILSAFE_RETENTION__CLOSED_ALERTS_DAYS and/or "
            "FAILSAFE_RETENTION__SIGHTINGS_DAYS",
            err=True,
        )
        raise typer.Exit(2)

    async def work(session: AsyncSession) -> PurgeResult:
        return await run_purge(session, retention, dry_run=dry_run)

    result = run_with_session(settings, work)
    verb = "would remove" if dry_run else "removed"

    def cut(days: int | None) -> str:
        return f"older than {days} days" if days is not None else "kept: no retention set"

    typer.echo(
        f"{verb} {result.alerts} closed alerts ({cut(retention.closed_alerts_days)}) and "
        f"{result.sightings} sightings ({cut(retention.sightings_days)})"
    )


def register(app: typer.Typer) -> None:
    app.command("purge")(purge)
