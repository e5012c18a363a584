"""Screening throughput of two engine versions, interleaved in short chunks in ONE process:
the A/B figure that stays steady on a shared, noisy machine.

    .venv/bin/python benchmarks/matching/interleaved.py --baseline-src /tmp/base/src
    (make the baseline with: git archive <commit> src | tar -x -C /tmp/base)

`scale.py --baseline-src` alternates whole passes in fresh processes; on this 2-core machine
shared with other work, the same engine's passes swung by up to 2x between identical runs, so
a 10 % change could not be seen. Here both versions are imported side by side (each with its
own modules), each builds its index from the same list and runs one cold pass over the
traffic, and then the warm traffic is screened in chunks of `--chunk` events, A then B, B then
A in turn: a burst of load hits both versions of a chunk alike. Printed: each version's warm
events/s over all chunks (CPU time of this process, one core), the median of the per-chunk
ratios with its quartiles, each version's cold first pass, and whether the two wrote the same
output bytes (a speed change must leave them identical).

Data: `scale.py`'s synthetic list and traffic (`synth.py`, the same seeds and defaults), or
JSONL files given with `--watchlist` and `--events`.
"""

from __future__ import annotations

import argparse
import importlib
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402


def load_engine(src: Path) -> tuple[type, Callable[..., Any], Callable[..., Any]]:
    """`WatchlistIndex`, `load_watchlist` and `screen_lines` of the engine under `src`, as
    modules of their own (the other version's stay loaded and untouched)."""
    for name in [k for k in sys.modules if k == "failsafe" or k.startswith("failsafe.")]:
        del sys.modules[name]
    sys.path.insert(0, str(src))
    try:
        matching = importlib.import_module("failsafe.matching")
        screening = importlib.import_module("failsafe.screening")
    finally:
        sys.path.remove(str(src))
    return matching.WatchlistIndex, screening.load_watchlist, screening.screen_lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline-src", type=Path, required=True,
                    help="the other engine's src directory (A); this checkout's is B")
    ap.add_argument("--src", type=Path, default=REPO / "src", help="this engine (B)")
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--hits", type=int, default=4000)
    ap.add_argument("--non-hits", type=int, default=50_000)
    ap.add_argument("--watchlist", type=Path, help="list JSONL instead of the synthetic one")
    ap.add_argument("--events", type=Path, help="traffic JSONL instead of the synthetic one")
    ap.add_argument("--chunk", type=int, default=1000, help="events per timed chunk")
    ap.add_argument("--rounds", type=int, default=3, help="warm passes over the traffic")
    args = ap.parse_args()

    if args.watchlist and args.events:
        wl = args.watchlist.read_bytes()
        lines = args.events.read_bytes().splitlines()
    else:
        print(f"generating {args.entries:,} entries and {args.hits + args.non_hits:,} events "
              "(scale.py's data)...", flush=True)
        entries, pools = synth.generate_watchlist(args.entries)
        events, _truth = synth.generate_traffic(entries, pools, args.hits, args.non_hits)
        wl = b"\n".join(orjson.dumps(e) for e in entries) + b"\n"
        lines = [orjson.dumps(e) for e in events]
        del entries, events, _truth

    clock = time.process_time
    engines: dict[str, tuple[Any, Callable[..., Any]]] = {}
    cold: dict[str, float] = {}
    out: dict[str, bytes] = {}
    for label, src in (("A", args.baseline_src), ("B", args.src)):
        index_cls, load_watchlist, screen_lines = load_engine(src)
        index = index_cls()
        load_watchlist(index, io.BytesIO(wl), "watchlist")
        sink = io.BytesIO()
        t = clock()
        screen_lines(index, lines, sink.write)
        cold[label] = clock() - t
        out[label] = sink.getvalue()
        engines[label] = (index, screen_lines)
        print(f"{label}: {src} indexed {len(index):,} entries", flush=True)

    chunks = [lines[i:i + args.chunk] for i in range(0, len(lines), args.chunk)]
    total = {"A": 0.0, "B": 0.0}
    ratios: list[float] = []
    for rnd in range(args.rounds):
        for k, chunk in enumerate(chunks):
            took: dict[str, float] = {}
            for label in ("A", "B") if (k + rnd) % 2 == 0 else ("B", "A"):
                index, screen_lines = engines[label]
                t = clock()
                screen_lines(index, chunk, io.BytesIO().write)
                took[label] = clock() - t
                total[label] += took[label]
            ratios.append(took["A"] / took["B"])
    n = len(lines) * args.rounds
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    print(f"warm, one core (CPU time), {args.rounds} passes in {len(ratios)} chunks of "
          f"{args.chunk}: A {n / total['A']:,.0f} events/s, B {n / total['B']:,.0f} events/s; "
          f"B/A {total['A'] / total['B']:.3f}x overall, median chunk {median:.3f}x "
          f"(quartiles {q1:.3f}-{q3:.3f})")
    print(f"cold first pass (CPU time): A {len(lines) / cold['A']:,.0f} events/s, "
          f"B {len(lines) / cold['B']:,.0f} events/s (one pass each, not interleaved)")
    same = out["A"] == out["B"]
    print(f"same output bytes: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
