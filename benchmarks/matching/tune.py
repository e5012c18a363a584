"""Coarse grid search of the scorer's knobs on cases.csv person pairs (how the defaults were set).

    .venv/bin/python benchmarks/matching/tune.py
The grid is deliberately coarse: a handful of values per knob, chosen for F1 at the threshold
while keeping the synthetic-traffic recall (scale.py) in mind; see docs/matching.md.
"""

from __future__ import annotations

import csv
import itertools
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import default_data_dir, f1  # noqa: E402

from failsafe.matching.normalize import name_tokens  # noqa: E402
from failsafe.matching.score import DEFAULT_PARAMS, compare_tokens  # noqa: E402


def main() -> None:
    with open(default_data_dir() / "cases.csv", newline="", encoding="utf-8") as fh:
        persons = [r for r in csv.DictReader(fh) if r["schema"] == "Person"]
    toks = [(name_tokens(r["name1"]), name_tokens(r["name2"]), r["is_match"] == "true")
            for r in persons]
    grid = {
        "sharpen": [1.0, 1.5, 2.0],
        "edit_mix": [0.0, 0.3, 0.5],
        "extra_penalty": [0.15, 0.25, 0.35],
        "conflict_penalty": [1.0, 1.3, 1.6],
        "token_cutoff": [0.75, 0.8, 0.85],
    }
    results = []
    for values in itertools.product(*grid.values()):
        params = replace(DEFAULT_PARAMS, **dict(zip(grid, values, strict=True)))
        scores = [(compare_tokens(a, b, params).score, truth) for a, b, truth in toks]
        best = max(
            (f1([(truth, s >= t / 100) for s, truth in scores])[0], t / 100)
            for t in range(60, 92, 2)
        )
        results.append((best, values))
    results.sort(reverse=True)
    print("knobs:", list(grid))
    for (score, thr), values in results[:15]:
        print(f"F1 {score:.3f} at {thr:.2f}: {values}")


if __name__ == "__main__":
    main()
