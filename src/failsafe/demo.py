"""`failsafe demo`: the whole loop live on one machine, in one command, for a newcomer.

On the embedded default (a SQLite file, no Kafka) it seeds a synthetic demo watchlist and the
bureau principals (their tokens printed once, on stdout), starts `serve` in this process, and
feeds it with the simulator (failsafe.alarms.simulate): land crossings at a German border,
flight bookings into Frankfurt and Munich, now and then one of the watchlisted subjects (a true
hit), and radiation alarms on the lanes. It prints the dashboard's URL; alerts arrive within
seconds.

Invariants: it never touches a configured database or Kafka (it runs on its own SQLite file,
new each run unless `--database` names one to keep); everything it sends is synthetic; tokens
appear once on stdout and nowhere in the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from failsafe.settings import DatabaseSettings, KafkaSettings, Settings, get_settings

# The demo's watchlist: synthetic subjects (no real person), owned by several bureaus.
DEMO_ENTRIES: tuple[dict[str, Any], ...] = (
    {
        "notice": {"type": "red", "reference": "DEMO/2026/001"},
        "owner_bureau": "FRA",
        "subject": {
            "surname": "KARAMAZOV",
            "given_names": "DMITRI",
            "date_of_birth": "1971-05-14",
            "nationalities": ["RUS"],
            "documents": [{"type": "P", "number": "751900113", "issuing_state": "RUS"}],
        },
        "case": {
            "category": "nuclear_smuggling",
            "requested_action": "locate_and_detain",
            "summary": "Demo: wanted for trafficking of radioactive material.",
        },
    },
    {
        "notice": {"type": "blue", "reference": "DEMO/2026/002"},
        "owner_bureau": "DEU",
        "subject": {
            "surname": "OBLONSKAYA",
            "given_names": "DARYA",
            "date_of_birth": "1984-11-02",
            "nationalities": ["UKR"],
            "documents": [{"type": "P", "number": "FE4410297", "issuing_state": "UKR"}],
        },
        "case": {"category": "fraud", "requested_action": "discreet_check"},
    },
    {
        "notice": {"type": "yellow", "reference": "DEMO/2026/003"},
        "owner_bureau": "ITA",
        "subject": {
            "surname": "BEZUKHOV",
            "given_names": "PIERRE",
            "date_of_birth": "1999-02-28",
            "nationalities": ["ITA"],
            "documents": [{"type": "P", "number": "YA8812034", "issuing_state": "ITA"}],
        },
        "case": {"category": "missing_person", "requested_action": "inform_only"},
    },
    {
        "notice": {"type": "orange", "reference": "DEMO/2026/004"},
        "owner_bureau": "AUT",
        "subject": {
            "surname": "RASKOLNIKOV",
            "given_names": "RODION",
            "date_of_birth": "1979-08-19",
            "nationalities": ["SRB"],
            "documents": [{"type": "P", "number": "012398475", "issuing_state": "SRB"}],
        },
        "case": {"category": "nuclear_smuggling", "requested_action": "specific_check"},
    },
)

# Who the demo creates: (role, bureau, name); the border system's token feeds the simulator.
DEMO_PRINCIPALS: tuple[tuple[str, str | None, str], ...] = (
    ("admin", None, "demo admin"),
    ("bureau", "DEU", "DEU bureau desk (Wiesbaden)"),
    ("bureau", "FRA", "FRA bureau desk (Lyon)"),
    ("border", "DEU", "DEU border police (simulator)"),
)

CROSSING_POINTS = ("DEU-AUT-SALZBURG", "DEU-CZE-WAIDHAUS")
# Flights into Germany for the bookings: (carrier, origin, transit, destination).
ROUTES = (
    ("LH", "IST", "", "FRA"),
    ("OS", "BEY", "VIE", "MUC"),
    ("TK", "GYD", "IST", "FRA"),
    ("AF", "ALG", "CDG", "MUC"),
)


@dataclass
class DemoPrincipal:
    role: str
    bureau: str | None
    name: str
    token: str


def demo_settings(database: Path) -> Settings:
    """The embedded mode on the demo's own SQLite file, whatever the environment configures."""
    base = get_settings()
    return base.model_copy(
        update={
            "database": DatabaseSettings(url=f"sqlite+aiosqlite:///{database}", auto_migrate=True),
            "kafka": KafkaSettings(bootstrap_servers=None),
        }
    )


async def seed(settings: Settings) -> list[DemoPrincipal]:
    """Migrate, load the demo watchlist, create the principals; returns them with their tokens."""
    from failsafe.actor import CLI_ACTOR
    from failsafe.auth.service import create_principal
    from failsafe.db import migrate
    from failsafe.db.engine import create_engine, create_sessionmaker
    from failsafe.errors import Conflict
    from failsafe.watchlist import service as watchlist
    from failsafe.watchlist.schemas import EntryIn

    await asyncio.to_thread(migrate.upgrade, settings.database.url)
    engine = create_engine(settings.database)
    principals: list[DemoPrincipal] = []
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            for body in DEMO_ENTRIES:
                with contextlib.suppress(Conflict):  # kept from an earlier run (--database)
                    await watchlist.create_entry(session, CLI_ACTOR, EntryIn.model_validate(body))
            for role, bureau, name in DEMO_PRINCIPALS:
                _, token = await create_principal(
                    session, role=role, bureau_code=bureau, name=name, actor=CLI_ACTOR
                )
                principals.append(DemoPrincipal(role, bureau, name, token))
    finally:
        await engine.dispose()
    return principals


def bookings(rng: random.Random, now: datetime, hit_share: float) -> list[dict[str, Any]]:
    """A booking into Germany, now and then of a watchlisted subject."""
    carrier, origin, transit, destination = rng.choice(ROUTES)
    if rng.random() < hit_share:
        subject = rng.choice(DEMO_ENTRIES)["subject"]
        traveller = {k: subject[k] for k in ("surname", "given_names", "date_of_birth")}
        document = {"type": "P", **subject["documents"][0]}
    else:
        traveller = {
            "surname": rng.choice(("NOVAK", "HOFFMANN", "ROSSI", "DUBOIS", "YILMAZ")),
            "given_names": rng.choice(("ELIF", "LUCA", "SARA", "MEHMET", "CLARA")),
            "date_of_birth": f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}",
        }
        document = {"type": "P", "number": uuid.uuid4().hex[:9].upper(), "issuing_state": "TUR"}
    return [
        {
            "schema": "failsafe.event/v1",
            "event_id": f"demo-booking-{uuid.uuid4().hex}",
            "kind": "travel_booking",
            "occurred_at": now.isoformat(),
            "source": "DEU-PIU-DEMO",
            "country": "DEU",
            "flight": {
                "carrier": carrier,
                "number": f"{carrier}{rng.randint(100, 1999)}",
                "origin": origin,
                "destination": destination,
                "scheduled_departure": (now + timedelta(hours=rng.randint(2, 48))).isoformat(),
                "transit": [transit] if transit else [],
            },
            "traveller": traveller,
            "document": document,
        }
    ]


async def feed(url: str, token: str, *, rate: float, hit_share: float, seconds: float) -> None:
    """The simulator into `url`: crossings (with alarms) and bookings, for `seconds`."""
    from failsafe.alarms.simulate import Sink, Stream, run

    stream = Stream(
        points=CROSSING_POINTS,
        country="DEU",
        seed=random.SystemRandom().randint(1, 2**31),
        # A demo's day passes in minutes: at 4 crossings a second, an alarm about every 10 s.
        alarms_per_lane_day=150.0,
        snm_every=10,
        hit_share=hit_share,
        subjects=DEMO_ENTRIES,
    )
    sink = Sink("http", url=url, token=token)
    rng = random.Random()  # noqa: S311 (synthetic data, not a secret)

    async def booking_loop() -> None:
        while True:
            body = bookings(rng, datetime.now(UTC), hit_share * 3)
            await sink.send(body, [])
            await asyncio.sleep(2.0)

    task = asyncio.create_task(booking_loop())
    try:
        await run(stream, sink, seconds=seconds, accelerate=1.0, rate=rate, tick=0.5)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class DemoRun:
    """How `demo` runs: where it serves and how it feeds."""

    host: str
    port: int
    rate: float
    hit_share: float
    seconds: float
    # `serve`'s uvicorn options (failsafe.cli.uvicorn_options), handed down by the CLI.
    server_options: Callable[[Settings], dict[str, Any]]


async def serve_and_feed(settings: Settings, run: DemoRun, principals: list[DemoPrincipal]) -> None:
    """Serve the app and feed it until the feed ends, the server stops, or Ctrl-C."""
    import uvicorn

    from failsafe.app import create_app

    host, port = run.host, run.port
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=host, port=port, **run.server_options(settings))
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            return
        await asyncio.sleep(0.05)  # uvicorn offers no start-up event to await
    border = next(p for p in principals if p.role == "border")
    shown = host if host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
    url = f"http://{shown}:{port}"
    typer.echo(f"\ndashboard: {url}/dashboard/  (sign in with the DEU desk's token)\n", err=True)
    feeding = asyncio.create_task(
        feed(url, border.token, rate=run.rate, hit_share=run.hit_share, seconds=run.seconds)
    )
    await asyncio.wait({serving, feeding}, return_when=asyncio.FIRST_COMPLETED)
    # Ctrl-C: uvicorn has set should_exit (or already stopped) before the feed ends.
    stopping = server.should_exit or serving.done()
    server.should_exit = True
    feeding.cancel()
    try:
        await feeding
    except asyncio.CancelledError:
        pass
    except OSError:
        # A request in flight when Ctrl-C stopped the server is refused: the feed ends with
        # the server, not with an error. A feed failing on its own still fails the demo.
        if not stopping:
            raise
    await serving


def demo_command(server_options: Callable[[Settings], dict[str, Any]]) -> Callable[..., None]:
    """The `demo` command, running uvicorn with `server_options` as `serve` does."""

    def demo(
        host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port.")] = 8000,
        database: Annotated[
            Path | None,
            typer.Option(help="The demo's SQLite file, to keep between runs [default: a new one]."),
        ] = None,
        rate: Annotated[float, typer.Option(min=0.1, max=500, help="Crossings per second.")] = 4.0,
        hit_share: Annotated[
            float, typer.Option(min=0, max=1, help="Share of crossings by a watchlisted subject.")
        ] = 0.03,
        seconds: Annotated[float, typer.Option(min=1, help="How long to feed it.")] = 24 * 3600,
    ) -> None:
        """Try failsafe live: seed a demo watchlist and principals, serve, and feed it simulated
        crossings, bookings and radiation alarms; Ctrl-C stops it."""
        from failsafe.logging import configure_logging

        if database is None:
            database = Path(tempfile.mkdtemp(prefix="failsafe-demo-")) / "demo.db"
        settings = demo_settings(database)
        configure_logging(settings.log_level, settings.log_json)
        principals = asyncio.run(seed(settings))
        typer.echo(f"demo database: {database}", err=True)
        typer.echo("tokens (shown only this once):", err=True)
        for p in principals:
            typer.echo(f"{p.role:<7} {p.bureau or '-':<4} {p.token}  {p.name}")
        with contextlib.suppress(KeyboardInterrupt):
            run = DemoRun(host, port, rate, hit_share, seconds, server_options)
            asyncio.run(serve_and_feed(settings, run, principals))

    return demo


def register(app: typer.Typer, server_options: Callable[[Settings], dict[str, Any]]) -> None:
    """Add the `demo` command to the main CLI."""
    app.command("demo")(demo_command(server_options))
