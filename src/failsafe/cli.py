"""The `failsafe` command: one CLI for every process kind (serve, db, and what later issues add)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer

from failsafe import demo, healthcheck, screening
from failsafe.alerts import purge_cli
from failsafe.auth.cli import principal_app
from failsafe.kafka_cli import kafka_app
from failsafe.kit.server import connection_options
from failsafe.logging import configure_logging
from failsafe.settings import Settings, SettingsError, get_settings
from failsafe.watchlist.cli import watchlist_app

app = typer.Typer(
    no_args_is_help=True,
    help="failsafe: real-time watchlist tracking.",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")
app.add_typer(principal_app, name="principal")
app.add_typer(watchlist_app, name="watchlist")
app.add_typer(kafka_app, name="kafka")
screening.register(app)
purge_cli.register(app)
healthcheck.register(app)  # ops: the container probe (failsafe.healthcheck)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address [default: settings, 127.0.0.1]."),
    port: int | None = typer.Option(None, help="Port [default: settings, 8000]."),
) -> None:
    """Run the API, websocket hub and dashboard (embedded mode without Kafka/database settings)."""
    import uvicorn

    from failsafe.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if settings.server.metrics_port is not None:  # ops: /metrics on its own port
        from prometheus_client import start_http_server

        start_http_server(settings.server.metrics_port, host or settings.server.host)
    uvicorn.run(
        create_app(settings),
        host=host or settings.server.host,
        port=port or settings.server.port,
        **uvicorn_options(settings),
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How `serve` runs uvicorn, beyond host and port (tests run their servers the same way)."""
    trusted = settings.server.forwarded_allow_ips.strip()
    return {
        "access_log": settings.server.access_log,
        "log_config": None,  # our handlers and redaction (failsafe.logging), not uvicorn's
        # Only the configured proxies' X-Forwarded-For is believed; uvicorn's own default would
        # trust any loopback peer.
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or [],
        # Per-message deflate keeps a zlib context pair per socket (most of an idle socket's
        # memory); alert frames are small and bureaus many.
        "ws_per_message_deflate": False,
        **connection_options(settings.server),  # header timeout and size, keep-alive
    }


demo.register(app, uvicorn_options)  # issue 14: `failsafe demo`


@app.command()
def ingest(
    batch_size: int = typer.Option(500, min=1, max=10_000, help="Events per batch (getmany)."),
    metrics_port: int | None = typer.Option(
        9108, help="Port for /metrics, /healthz, /readyz (0 or empty: none)."
    ),
    metrics_host: str = typer.Option("127.0.0.1", help="Bind address of the metrics endpoint."),
) -> None:
    """Run the stream worker: consume events from Kafka, screen, persist and publish alerts."""
    import asyncio

    from failsafe.ingest.screener import new_screener
    from failsafe.ingest.worker import IngestWorker
    from failsafe.kit.worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if not settings.kafka.bootstrap_servers:
        raise typer.BadParameter(
            "set FAILSAFE_KAFKA__BOOTSTRAP_SERVERS (the embedded mode screens inside `serve`)"
        )
    from failsafe.alarms.service import lane_observer
    from failsafe.kit.topics import MissingTopics

    # Crossings that name a lane meet radiation alarms (failsafe.alarms) in PostgreSQL.
    lanes = lane_observer(settings.alarms)
    worker = IngestWorker(settings, new_screener(), batch_size=batch_size, lanes=lanes)
    try:
        asyncio.run(run_worker(worker, metrics_host, metrics_port or None))
    except MissingTopics as exc:
        logging.getLogger("failsafe.ingest").error("%s", exc)
        raise typer.Exit(1) from None


@app.command("ingest-alarms")
def ingest_alarms(
    batch_size: int = typer.Option(100, min=1, max=10_000, help="Alarms per batch (getmany)."),
    metrics_port: int | None = typer.Option(
        9109, help="Port for /metrics, /healthz, /readyz (0 or empty: none)."
    ),
    metrics_host: str = typer.Option("127.0.0.1", help="Bind address of the metrics endpoint."),
) -> None:
    """Run the radiation alarm worker (issue 12): consume failsafe.alarms.v1, link each alarm to
    the lane crossings in PostgreSQL, raise and update alerts; bad input to the alarm DLQ."""
    import asyncio

    from failsafe.alarms.worker import AlarmWorker
    from failsafe.kit.topics import MissingTopics
    from failsafe.kit.worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if not settings.kafka.bootstrap_servers:
        raise typer.BadParameter(
            "set FAILSAFE_KAFKA__BOOTSTRAP_SERVERS (the embedded mode takes alarms in `serve`)"
        )
    # Its own port (9109), next to ingest's 9108: both may run in one pod or on one host.
    worker = AlarmWorker(settings, batch_size=batch_size)
    try:
        asyncio.run(run_worker(worker, metrics_host, metrics_port or None))
    except MissingTopics as exc:
        logging.getLogger("failsafe.alarms").error("%s", exc)
        raise typer.Exit(1) from None


@app.command()
def simulate(
    to: str = typer.Option("stdout", help="stdout (JSON lines), kafka (settings) or http."),
    seconds: float = typer.Option(60.0, min=0.1, help="How long to send (real seconds)."),
    points: int = typer.Option(4, min=1, max=1000, help="Crossing points (6 lanes each)."),
    country: str = typer.Option("DEU", help="The points' country (alpha-3)."),
    accelerate: float = typer.Option(
        600.0, min=1.0, help="Simulated seconds per real second (600: alarms within a minute)."
    ),
    rate: float | None = typer.Option(None, min=1.0, help="Crossings per second (load tests)."),
    alarms_per_lane_day: float = typer.Option(0.5, min=0.0, help="Alarm rate per lane per day."),
    snm_every: int = typer.Option(50, min=0, help="Every Nth alarm a real SNM alarm (0: none)."),
    watchlist: str | None = typer.Option(
        None, help="Watchlist JSONL whose subjects cross now and then (true hits)."
    ),
    hit_share: float = typer.Option(0.001, min=0.0, max=1.0, help="Share of crossings that hit."),
    url: str | None = typer.Option(None, help="--to http: the API, e.g. http://127.0.0.1:8000."),
    seed: int = typer.Option(1, help="Random seed."),
) -> None:
    """Send a realistic mixed stream of lane crossings and radiation alarms (issue 12). With
    --to http the border token is read from FAILSAFE_SIM_TOKEN (never a command-line argument,
    which other users can see)."""
    import asyncio
    import os

    import orjson

    from failsafe.alarms.simulate import Sink, Stream, run
    from failsafe.kit.kafka import client_options

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    subjects = (
        [orjson.loads(line) for line in Path(watchlist).read_text().splitlines() if line.strip()]
        if watchlist
        else []
    )
    stream = Stream(
        points=[f"{country}-SIM-{i:02d}" for i in range(points)],
        country=country,
        seed=seed,
        alarms_per_lane_day=alarms_per_lane_day,
        snm_every=snm_every,
        hit_share=hit_share,
        subjects=subjects,
    )
    try:
        sink = Sink(
            to,
            bootstrap=settings.kafka.bootstrap_servers,
            client=client_options(settings.kafka) if settings.kafka.bootstrap_servers else None,
            events_topic=settings.kafka.topics.events,
            alarms_topic=settings.kafka.topics.alarms,
            url=url,
            token=os.environ.get("FAILSAFE_SIM_TOKEN"),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    sent = asyncio.run(run(stream, sink, seconds=seconds, accelerate=accelerate, rate=rate))
    typer.echo(orjson.dumps(sent).decode(), err=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the migrations to the configured database."""
    from failsafe.db import migrate

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    migrate.upgrade(settings.database.url, revision)
    typer.echo(f"database at {revision}")


def main() -> None:
    try:
        app()
    except SettingsError as exc:
        # Settings that could never work stop every command at once, with what to fix.
        typer.echo(f"failsafe: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
