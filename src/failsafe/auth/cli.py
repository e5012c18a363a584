"""`failsafe principal create|list|revoke`: manage principals from the command line (as admin)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from failsafe.settings import Settings, get_settings

T = TypeVar("T")

principal_app = typer.Typer(no_args_is_help=True, help="Principals: API tokens, roles, bureaus.")


def run_with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` with a session on the configured database, migrating it first where `serve`
    would (SQLite by default), so that a first `principal create` works on a fresh install."""
    from failsafe.db import migrate
    from failsafe.db.engine import create_engine, create_sessionmaker, is_sqlite

    auto_migrate = settings.database.auto_migrate
    if auto_migrate is None:
        auto_migrate = is_sqlite(settings.database.url)
    if auto_migrate:
        migrate.upgrade(settings.database.url)

    async def main() -> T:
        engine = create_engine(settings.database)
        try:
            async with create_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@principal_app.command("create")
def create(
    role: str = typer.Option(..., help="admin, analyst, bureau or border."),
    bureau: str | None = typer.Option(None, help="Alpha-3 bureau code (all roles but admin)."),
    name: str = typer.Option(..., help="Who or what holds the token (e.g. 'Lyon desk')."),
    officer: bool = typer.Option(False, help="A named officer of the bureau (kind officer)."),
) -> None:
    """Create a principal and print its token on stdout (shown only this once)."""
    from failsafe.actor import CLI_ACTOR
    from failsafe.auth.service import create_principal
    from failsafe.errors import FailsafeError

    async def work(session: AsyncSession) -> tuple[str, str]:
        principal, token = await create_principal(
            session,
            role=role,
            bureau_code=bureau,
            name=name,
            actor=CLI_ACTOR,
            kind="officer" if officer else "token",
        )
        return principal.id, token

    try:
        principal_id, token = run_with_session(get_settings(), work)
    except FailsafeError as exc:
        raise typer.BadParameter(exc.message) from None
    typer.echo(f"created principal {principal_id} ({role}, {bureau or 'no bureau'})", err=True)
    typer.echo(token)


@principal_app.command("list")
def list_() -> None:
    """List principals (id, role, kind, bureau, token prefix, revoked)."""
    from failsafe.auth.service import list_principals

    async def work(session: AsyncSession) -> list[str]:
        rows = await list_principals(session, limit=100_000)
        return [
            "\t".join(
                (
                    p.id,
                    p.role,
                    p.kind,
                    p.bureau_code or "-",
                    p.token_prefix + "…",
                    "revoked" if p.revoked_at else "active",
                    p.name,
                )
            )
            for p in rows
        ]

    for line in run_with_session(get_settings(), work):
        typer.echo(line)


@principal_app.command("revoke")
def revoke(principal_id: str = typer.Argument(..., help="The principal's id.")) -> None:
    """Revoke a principal's token (refused for the last active admin). With Kafka configured,
    its open websockets are closed on every `serve` replica at once."""
    from failsafe.actor import CLI_ACTOR
    from failsafe.auth.service import revoke_principal
    from failsafe.errors import FailsafeError

    settings = get_settings()

    async def work(session: AsyncSession) -> None:
        await revoke_principal(session, principal_id, CLI_ACTOR)
        if settings.kafka.bootstrap_servers:
            await _announce_revocation(settings, principal_id)

    try:
        run_with_session(settings, work)
    except FailsafeError as exc:
        raise typer.BadParameter(exc.message) from None
    typer.echo(f"revoked {principal_id}", err=True)


async def _announce_revocation(settings: Settings, principal_id: str) -> None:
    from failsafe.kit.bus import KafkaAlertBus, revocation
    from failsafe.kit.kafka import client_options

    bus = KafkaAlertBus(
        client_options(settings.kafka), settings.kafka.topics.alerts, settings.kafka.client_id
    )
    try:
        async with asyncio.timeout(10):
            await bus.start()
            await bus.publish([revocation(principal_id)])
    except Exception:  # noqa: BLE001 (revoked all the same; the heartbeat closes the sockets)
        typer.echo(
            "warning: Kafka did not take the revocation; open websockets close at their next "
            "heartbeat (within a minute)",
            err=True,
        )
    finally:
        await bus.stop()
