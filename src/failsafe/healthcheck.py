"""`failsafe healthcheck`: the container's liveness probe, without curl in the image.

Asks `http://127.0.0.1:PORT/healthz` of the process in the same container and exits 0 on a 200,
1 otherwise (refused, timed out, any other status). One image runs every process kind, so the
port says which is checked: `serve` answers on its API port (the default, the `server.port`
setting), `ingest` on its metrics port (`--port 9108`), `ingest-alarms` on its own (`--port
9109`). Only loopback is asked: the probe runs
next to the process, and nothing it prints carries data of the service.

The image runs it as `python -m failsafe.healthcheck`: the same command without importing the
whole CLI (every subcommand's modules take seconds to import on a busy node, and a probe has a
timeout).
"""

from __future__ import annotations

import http.client

import typer

from failsafe.settings import get_settings


def healthcheck(
    port: int | None = typer.Option(
        None,
        help="Port of the process [default: the server.port setting, 8000; ingest: 9108; "
        "ingest-alarms: 9109].",
    ),
    path: str = typer.Option("/healthz", help="Path asked (/readyz for readiness)."),
    timeout: float = typer.Option(3.0, min=0.1, help="Seconds to wait for the answer."),
) -> None:
    """Exit 0 when the process in this container answers its health endpoint with 200."""
    port = port or get_settings().server.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        status = conn.getresponse().status
    except OSError as exc:
        typer.echo(f"healthcheck: 127.0.0.1:{port}{path}: {type(exc).__name__}", err=True)
        raise typer.Exit(1) from None
    finally:
        conn.close()
    if status != 200:
        typer.echo(f"healthcheck: 127.0.0.1:{port}{path}: HTTP {status}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `healthcheck` command to the main CLI."""
    app.command("healthcheck")(healthcheck)


if __name__ == "__main__":
    typer.run(healthcheck)
