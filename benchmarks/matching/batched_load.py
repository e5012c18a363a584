"""The service's first load of a list: `add_many` in batches, as the watchlist follower does
(`failsafe.ingest.follower`, 20,000 rows a batch): the neighbour table built by the last batch
(`add_many(..., more=True)` before it, as the follower calls it), kept up to date by every
batch (each `add_many` on its own), and no table.

    .venv/bin/python benchmarks/matching/batched_load.py [--entries 100000] [--new-tokens 0.7]

The list is `scale.py`'s synthetic one (`synth.py`, the same seeds). Its vocabulary stops
growing at ~36,000 tokens (the faker pools), far below a big real list's; `--new-tokens F`
adds two random letters to the surname of a share F of the entries, so the vocabulary keeps
growing batch after batch (0.7 at 300,000 entries: ~234,000 tokens, past the table's pair
budget). Each way runs in a fresh process; printed per batch: CPU time, tokens, the
prefilter's candidate pairs (`neighbours.pool_pairs`, the budget is `neighbours.PAIR_BUDGET`),
whether a table is held and its cells, and the RSS growth; then the total and the peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _rss_mb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


def load(path: Path, batch: int, table: bool, defer: bool) -> None:
    sys.path.insert(0, str(REPO / "src"))
    from failsafe.matching import WatchlistIndex, neighbours

    entries = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    index = WatchlistIndex()
    if not table:
        index.neighbour_table_min = 10**12
    base = _rss_mb()
    start = time.process_time()
    for k in range(0, len(entries), batch):
        t = time.process_time()
        # As the follower does: a batch that more follow leaves the table to the last one.
        index.add_many(entries[k:k + batch], more=defer and k + batch < len(entries))
        held = index._neighbours
        cells = sum(map(len, held)) if held is not None else 0
        print(f"  batch {k // batch:3d}: {time.process_time() - t:6.2f} s, "
              f"{len(index._vtok):7,} tokens, {neighbours.pool_pairs(index._buckets) / 1e6:6.1f}M "
              f"pairs, table {'yes' if held is not None else 'no '} ({cells / 1e6:4.1f}M cells), "
              f"RSS +{_rss_mb() - base:,} MB", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    how = ("table built by the last batch" if defer else "table kept up by every batch") \
        if table else "no table"
    print(f"{how}: {time.process_time() - start:.1f} s of CPU, "
          f"peak RSS {peak:,} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=20_000)
    ap.add_argument("--new-tokens", type=float, default=0.0,
                    help="share of entries whose surname gets two random letters")
    ap.add_argument("--list", type=Path, default=None, help="(internal) load this JSONL")
    ap.add_argument("--no-table", action="store_true", help="(internal) without the table")
    ap.add_argument("--every-batch", action="store_true",
                    help="(internal) keep the table up to date after every batch")
    args = ap.parse_args()
    if args.list is not None:
        load(args.list, args.batch, not args.no_table, not args.every_batch)
        return

    import synth

    entries, _pools = synth.generate_watchlist(args.entries)
    rng = random.Random(5)
    for entry in entries:
        subject = entry["subject"]
        if subject.get("surname") and rng.random() < args.new_tokens:
            subject["surname"] += "".join(rng.choice("ABCDEFGHIKLMNOPRSTUVYZ") for _ in range(2))
    path = Path(f"/tmp/failsafe-batched-{args.entries}-{args.new_tokens}.jsonl")
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    del entries
    for flag in ([], ["--every-batch"], ["--no-table"]):
        subprocess.run([sys.executable, __file__, "--list", str(path), "--batch",
                        str(args.batch), *flag], check=True)
    path.unlink()


if __name__ == "__main__":
    main()
