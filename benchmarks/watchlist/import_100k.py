"""Time `failsafe watchlist import` of N synthetic entries (default 100k) on PostgreSQL, then the
same file again (all unchanged). Target: <= 60 s for 100k.

    FAILSAFE_BENCH_PG=postgresql://failsafe:failsafe@127.0.0.1:15432 \
        .venv/bin/python benchmarks/watchlist/import_100k.py [N]

Creates a scratch database, migrates it, imports through the CLI (a subprocess: what a user
runs), prints the figures and drops the database.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import entries, write_jsonl

from failsafe.db import migrate

FAILSAFE = str(Path(sys.executable).with_name("failsafe"))


async def _admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _count(url: str) -> tuple[int, int, int]:
    conn = await asyncpg.connect(url)
    try:
        return (
            await conn.fetchval("select count(*) from watchlist_entry"),
            await conn.fetchval("select count(*) from watchlist_entry_version"),
            await conn.fetchval("select value from counter where name = 'watchlist_revision'"),
        )
    finally:
        await conn.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    server = os.environ.get("FAILSAFE_BENCH_PG", "postgresql://failsafe:failsafe@127.0.0.1:15432")
    db = f"failsafe_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server, f'create database "{db}"'))
    url = f"{server}/{db}".replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        migrate.upgrade(url)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "watchlist.jsonl"
            t = time.perf_counter()
            write_jsonl(path, entries(n))
            print(
                f"generated {n} entries ({path.stat().st_size / 2**20:.1f} MiB) "
                f"in {time.perf_counter() - t:.1f} s"
            )
            env = {**os.environ, "FAILSAFE_DATABASE__URL": url}
            for label in ("first import", "re-import (unchanged)"):
                t = time.perf_counter()
                done = subprocess.run(
                    [FAILSAFE, "watchlist", "import", str(path)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                elapsed = time.perf_counter() - t
                summary = done.stdout.splitlines()[0] if done.stdout else done.stderr[-500:]
                print(f"{label}: {elapsed:.1f} s ({n / elapsed:,.0f} entries/s) — {summary}")
        rows, versions, revision = asyncio.run(_count(url.replace("+asyncpg", "")))
        print(f"database: {rows} entries, {versions} versions, revision {revision}")
    finally:
        asyncio.run(_admin(server, f'drop database if exists "{db}" with (force)'))


if __name__ == "__main__":
    main()
