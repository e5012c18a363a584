"""Check that two engine versions match exactly the same on the scale benchmark's data: the set
of (event, entry, score rounded to 1e-6) at or above the threshold, and the CLI's JSON output
line for line.

    .venv/bin/python benchmarks/matching/same_matches.py --baseline-src OLD/src [--entries 100000]

`OLD/src` is another version's source (`git archive <commit> src | tar -x -C OLD`). Both run in
fresh processes on the same generated files (`synth.py`, fixed seeds: the same data as
`scale.py`). Exit status 0 when identical, 1 otherwise (the first differences are printed). A
speed change to the engine must leave this at 0.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO / "src"))

import synth  # noqa: E402

from failsafe.matching import DEFAULT_THRESHOLD  # noqa: E402


def run(src: Path, wl: Path, ev: Path, out: Path, threshold: float) -> bytes:
    subprocess.run([sys.executable, "-c", _RUN_SCREEN, str(wl), str(src.resolve()), str(ev),
                    str(threshold), str(out)], check=True)
    return out.read_bytes()


# The CLI path (output lines), then every match's unrounded score through the engine's own
# `screen` with its `Match` rounding undone: `_adjust` is wrapped to record raw scores.
_RUN_SCREEN = """
import io, sys; sys.path.insert(0, sys.argv[2])
import orjson
from failsafe.matching import WatchlistIndex, index as ixmod
from failsafe.screening import load_watchlist, screen_lines
ix = WatchlistIndex()
with open(sys.argv[1], 'rb') as fh: load_watchlist(ix, fh, 'wl')
data = open(sys.argv[3], 'rb').read()
threshold = float(sys.argv[4])
raw = {}
real_round = round
def keep(x, n=None):
    # Match(entry_id, round(score, 4), ...): remember the unrounded score of each match.
    if n == 4:
        raw.setdefault('cur', []).append(x)
    return real_round(x, n) if n is not None else real_round(x)
ixmod.round = keep
sink = io.BytesIO()
lines = [ln for ln in data.splitlines() if ln.strip()]
out = []
for line in lines:
    raw['cur'] = []
    s = io.BytesIO()
    screen_lines(ix, io.BytesIO(line + b'\\n'), s.write, threshold, 10, 'ev')
    got = s.getvalue()
    sink.write(got)
    for r in [orjson.loads(x) for x in got.splitlines()]:
        ids = [m['entry_id'] for m in r['matches']]
        assert len(ids) == len(raw['cur']), 'unrounded scores not captured'
        out.append([r['event_id'], [[i, f'{v:.6f}'] for i, v in zip(ids, raw['cur'])]])
open(sys.argv[5], 'wb').write(orjson.dumps({'lines': sink.getvalue().decode(), 'raw': out}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--baseline-src", type=Path, required=True)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--hits", type=int, default=4000)
    ap.add_argument("--non-hits", type=int, default=50_000)
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = ap.parse_args()
    entries, pools = synth.generate_watchlist(args.entries)
    events, _truth = synth.generate_traffic(entries, pools, args.hits, args.non_hits)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        wl, ev = d / "watchlist.jsonl", d / "events.jsonl"
        wl.write_bytes(b"\n".join(orjson.dumps(e) for e in entries) + b"\n")
        ev.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
        got = {}
        for name, src in (("this version", REPO / "src"), ("baseline", args.baseline_src)):
            got[name] = orjson.loads(run(src, wl, ev, d / "out.json", args.threshold))
    a, b = got["this version"], got["baseline"]
    triples = {
        name: {(eid, entry, score) for eid, ms in g["raw"] for entry, score in ms}
        for name, g in got.items()
    }
    ta, tb = triples["this version"], triples["baseline"]
    print(f"{len(events)} events, {len(entries)} entries, threshold {args.threshold}: "
          f"{len(ta)} (event, entry, score) above it in this version, {len(tb)} in the "
          f"baseline; output sha256 {hashlib.sha256(a['lines'].encode()).hexdigest()[:16]} / "
          f"{hashlib.sha256(b['lines'].encode()).hexdigest()[:16]}")
    if ta == tb and a["lines"] == b["lines"]:
        print("identical: the same matches with the same scores and the same output lines")
        return
    for x in sorted(ta - tb)[:10]:
        print("  only in this version:", x)
    for x in sorted(tb - ta)[:10]:
        print("  only in the baseline:", x)
    la, lb = a["lines"].splitlines(), b["lines"].splitlines()
    diff = [i for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y]
    print(f"  {len(diff)} output lines differ" + (f", first: {la[diff[0]]} / {lb[diff[0]]}"
                                                   if diff else ""))
    sys.exit(1)


if __name__ == "__main__":
    main()
