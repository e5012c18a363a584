"""Check that two engine versions build exactly the same index from a JSONL watchlist, as
`failsafe screen` loads it (`failsafe.screening.load_watchlist`): every table of the index
(entries, names, vocabulary, postings, birth years, documents, blocking buckets) hashed in
a canonical form, the load's counts, and the bad-line reports.

    .venv/bin/python benchmarks/matching/same_index.py --baseline-src OLD/src WATCHLIST.jsonl
    .venv/bin/python benchmarks/matching/same_index.py --baseline-src OLD/src --mangle WL.jsonl

`--mangle` first writes a seeded, damaged copy of the first 6,000 lines (broken JSON, missing
and repeated ids, inactive and expired entries, odd and invalid dates of birth, odd names,
nationalities and documents) and compares on that. Exit status 0 when identical, 1 otherwise.
A speed change to the build must leave this at 0.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[2]

_DUMP = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from failsafe.matching import WatchlistIndex
from failsafe.screening import load_watchlist
ix = WatchlistIndex()
errors = []
with open(sys.argv[2], 'rb') as fh:
    stats = load_watchlist(ix, fh, 'wl', err=errors.append)
def canon(x):
    if isinstance(x, dict):
        return '{' + ','.join(f'{canon(k)}:{canon(v)}' for k, v in x.items()) + '}'
    if isinstance(x, (set, frozenset)):
        return 'S{' + ','.join(sorted(canon(v) for v in x)) + '}'
    if isinstance(x, (list, tuple)):
        return '[' + ','.join(canon(v) for v in x) + ']'
    return repr(x)
print(stats)
for e in errors:
    print('error', e)
for name in ('_entries', '_entry_names', '_vocab', '_vtok', '_postings', '_solo', '_name_ids',
             '_names', '_owners', '_years', '_by_year', '_docs', '_next_name'):
    print(name, hashlib.sha256(canon(getattr(ix, name)).encode()).hexdigest()[:16])
b = ix._buckets  # the order of keys is not part of the state, a bucket's order is
print('_buckets', hashlib.sha256(canon({k: b[k] for k in sorted(b)}).encode()).hexdigest()[:16])
"""

_DOBS: list[Any] = ["1969-7-6", " 1970 ", "0000-00-00", "", "1969-02-30", "abc", 1969, None,
                    "1969-00-00", "1969-07-00", "1969-13-01", "\u0661\u0669\u0666\u0669",
                    "1970-01-01", "\t1980-2\n", "2000-02-29", {"circa": 1970}]
_ITEMS: list[Any] = ["1969", "1969-7", "1969-07", {"circa": 1971}, {"from": 1968, "to": 1972},
                     {"from": 1972, "to": 1968}, {"from": 1900, "to": 1960}, {"circa": 1700},
                     "", "0000", None, 5, {"to": 1970}, {"circa": "1970"}, "1975-12-31",
                     "1975-12-32", {"circa": 1970, "x": 1}]
_NAMES: list[Any] = ["MOZAFFARI-NIA", "\u91d1\u6b63\u6069", "PUTIN, Vladimir", "Mr Dr", "  ",
                     "", 5, None, ["X"], "\u0645\u062d\u0645\u062f \u0639\u0644\u064a",
                     "O'Brien-Smith", "SERGEY SERGEY SHOIGU", "\uff21\uff42\uff43", "X\u200bY",
                     "\uae40\uc815\uc740"]


def mangle(src: Path, dst: Path, n: int = 6000, seed: int = 17) -> None:
    """A damaged copy of the first `n` lines of `src` (seeded)."""
    rng = random.Random(seed)
    lines = src.read_bytes().splitlines()[:n]
    out: list[bytes] = []
    for i, line in enumerate(lines):
        r = rng.random()
        if r < 0.02:
            out.append(b"{broken json")
            continue
        if r < 0.03:
            out.append(b"[1, 2]")
            continue
        if r < 0.04:
            out.append(b"   ")
            continue
        d = orjson.loads(line)
        s = d.setdefault("subject", {})
        r = rng.random()
        if r < 0.02:
            d.pop("id", None)
        elif r < 0.03:
            d["id"] = ""
        elif r < 0.05:
            d["id"] = orjson.loads(lines[rng.randrange(i + 1)]).get("id")  # a replacement
        elif r < 0.06:
            d["id"] = 12345 + i
        r = rng.random()
        if r < 0.03:
            d["status"] = "cancelled"
        elif r < 0.06:
            d.setdefault("notice", {})["expires_at"] = rng.choice(
                ["2001-01-01T00:00:00", "2999-01-01T00:00:00+00:00", "garbage", 5])
        elif r < 0.07:
            d["expires_at"] = "2002-02-02"
        if rng.random() < 0.3:
            s["date_of_birth"] = rng.choice(_DOBS)
        if rng.random() < 0.2:
            s["dates_of_birth"] = (
                [rng.choice(_ITEMS) for _ in range(rng.randrange(0, 4))] if rng.random() < 0.95
                else [str(1950 + k) for k in range(11)])
        if rng.random() < 0.1:
            s["dates_of_birth"] = rng.choice(["1969", {"circa": 1970}, 5])
        r = rng.random()
        if r < 0.05:
            s["surname"] = rng.choice(_NAMES)
        elif r < 0.08:
            s["given_names"] = rng.choice(_NAMES)
        elif r < 0.1:
            s["name_original"] = rng.choice(_NAMES)
            s["nationalities"] = rng.choice([["KOR"], [], "PRK", ["FRA"], None, [5]])
        elif r < 0.12:
            s.pop("surname", None)
            s.pop("given_names", None)
            s["full_name"] = rng.choice(_NAMES)
        elif r < 0.13:
            s["aliases"] = rng.choice(
                [None, "X", [5, None, "ALIAS NAME", {"full_name": "MOZAFFARI-NIA"}]])
        elif r < 0.14:
            s["documents"] = rng.choice(
                [None, [5], [{"number": 12345}], [{"number": "AB-12.3"}], [{"number": None}]])
        elif r < 0.15:
            d["subject"] = rng.choice(["str", 5, None, []])
        elif r < 0.16:
            s["sex"] = rng.choice([5, "female", "x", None])
        elif r < 0.17:
            s.pop("surname", None)
            s.pop("given_names", None)
        out.append(orjson.dumps(d))
    dst.write_bytes(b"\n".join(out) + b"\n")


def dump(src: Path, wl: Path) -> list[str]:
    res = subprocess.run([sys.executable, "-c", _DUMP, str(src.resolve()), str(wl)],
                         capture_output=True, text=True, check=True)
    return res.stdout.splitlines()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--baseline-src", type=Path, required=True)
    ap.add_argument("--mangle", action="store_true")
    ap.add_argument("watchlist", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wl = args.watchlist
        if args.mangle:
            wl = Path(tmp) / "mangled.jsonl"
            mangle(args.watchlist, wl)
        ours, theirs = dump(REPO / "src", wl), dump(args.baseline_src, wl)
    print(ours[0], f"({sum(ln.startswith('error') for ln in ours)} bad-line reports)")
    if ours == theirs:
        print("identical: the same tables, counts and bad-line reports")
        return
    for a, b in zip(ours, theirs, strict=False):
        if a != b:
            print(f"differs: {a!r} (this version) / {b!r} (baseline)")
    if len(ours) != len(theirs):
        print(f"differs: {len(ours)} lines (this version) / {len(theirs)} (baseline)")
    sys.exit(1)


if __name__ == "__main__":
    main()
