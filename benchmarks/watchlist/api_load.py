"""p50/p99 of creating and reading watchlist entries under a small concurrent load, against a
real `failsafe serve` on PostgreSQL (a scratch database, preloaded with synthetic entries).

    FAILSAFE_BENCH_PG=postgresql://failsafe:failsafe@127.0.0.1:15432 \
        .venv/bin/python benchmarks/watchlist/api_load.py [--clients 8 --creates 250 --reads 500]

The load generator runs on the same machine as the server (and PostgreSQL): on a small machine
the figures include that competition.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import entries, write_jsonl

from failsafe.db import migrate

FAILSAFE = str(Path(sys.executable).with_name("failsafe"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(label: str, latencies: list[float], wall: float) -> None:
    print(
        f"{label:<7} n={len(latencies):>5}  p50 {pct(latencies, 0.50):6.1f} ms  "
        f"p99 {pct(latencies, 0.99):6.1f} ms  mean {statistics.mean(latencies) * 1000:6.1f} ms  "
        f"{len(latencies) / wall:7.0f} req/s"
    )


async def admin_sql(server: str, sql: str) -> None:
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def load(base: str, token: str, clients: int, creates: int, reads: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx2.Limits(max_connections=clients)
    async with httpx2.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        bodies = entries(clients * creates, seed=99)
        created: list[str] = []
        create_lat: list[float] = []
        read_lat: list[float] = []

        async def creator(worker: int) -> None:
            for body in bodies[worker::clients]:
                body = {**body, "id": None, "owner_bureau": "FRA"}
                body.pop("id")
                t = time.perf_counter()
                r = await client.post("/v1/watchlist", json=body)
                create_lat.append(time.perf_counter() - t)
                assert r.status_code == 201, r.text
                created.append(r.json()["id"])

        t0 = time.perf_counter()
        await asyncio.gather(*(creator(w) for w in range(clients)))
        report("create", create_lat, time.perf_counter() - t0)

        async def reader(worker: int) -> None:
            rng = random.Random(worker)
            for _ in range(reads):
                entry_id = rng.choice(created)
                t = time.perf_counter()
                r = await client.get(f"/v1/watchlist/{entry_id}")
                read_lat.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text

        t0 = time.perf_counter()
        await asyncio.gather(*(reader(w) for w in range(clients)))
        report("read", read_lat, time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--creates", type=int, default=250, help="per client")
    parser.add_argument("--reads", type=int, default=500, help="per client")
    parser.add_argument("--preload", type=int, default=20_000)
    args = parser.parse_args()
    server = os.environ.get("FAILSAFE_BENCH_PG", "postgresql://failsafe:failsafe@127.0.0.1:15432")
    db = f"failsafe_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin_sql(server, f'create database "{db}"'))
    url = f"{server}/{db}".replace("postgresql://", "postgresql+asyncpg://", 1)
    env = {**os.environ, "FAILSAFE_DATABASE__URL": url, "FAILSAFE_LOG_LEVEL": "WARNING"}
    proc = None
    try:
        migrate.upgrade(url)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "preload.jsonl"
            write_jsonl(path, entries(args.preload, seed=5))
            subprocess.run(
                [FAILSAFE, "watchlist", "import", str(path)],
                env=env,
                check=True,
                capture_output=True,
            )
        token = subprocess.run(
            [
                FAILSAFE,
                "principal",
                "create",
                "--role",
                "analyst",
                "--bureau",
                "FRA",
                "--name",
                "bench",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port = free_port()
        proc = subprocess.Popen([FAILSAFE, "serve", "--port", str(port)], env=env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("serve did not become ready")
            time.sleep(0.2)
        print(f"serve on PostgreSQL, {args.preload} entries preloaded, {args.clients} clients")
        asyncio.run(load(base, token, args.clients, args.creates, args.reads))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        asyncio.run(admin_sql(server, f'drop database if exists "{db}" with (force)'))


if __name__ == "__main__":
    main()
