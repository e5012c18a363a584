"""Name-matching quality on the public reference data (../shared/data/name-matching).

Prints person-pair F1 on nomenklatura's cases.csv at the default threshold beside logic-v2's,
the STRONG-labelled pairs we get wrong, agreement with OFAC's scores and the cross-script count.

    .venv/bin/python benchmarks/matching/quality.py [--data DIR] [--threshold T] [--sweep]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from failsafe.matching import DEFAULT_THRESHOLD, compare_names  # noqa: E402


def default_data_dir() -> Path:
    env = os.environ.get("FAILSAFE_NAME_DATA")
    return Path(env) if env else (REPO / ".." / "shared" / "data" / "name-matching").resolve()


def f1(rows: list[tuple[bool, bool]]) -> tuple[float, float, float]:
    tp = sum(1 for truth, pred in rows if truth and pred)
    fp = sum(1 for truth, pred in rows if not truth and pred)
    fn = sum(1 for truth, pred in rows if truth and not pred)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f, precision, recall


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--sweep", action="store_true", help="print F1 over a range of thresholds")
    ap.add_argument("--errors", action="store_true", help="list every person pair we get wrong")
    args = ap.parse_args()
    data: Path = args.data
    thr: float = args.threshold

    with open(data / "cases.csv", newline="", encoding="utf-8") as fh:
        persons = [r for r in csv.DictReader(fh) if r["schema"] == "Person"]
    scored = [(r, compare_names(r["name1"], r["name2"])) for r in persons]
    rows = [(r["is_match"] == "true", s >= thr) for r, s in scored]
    ours, p, rc = f1(rows)

    with open(data / "logicv2-frozen.csv", newline="", encoding="utf-8") as fh:
        lv2 = [r for r in csv.DictReader(fh) if r["schema"] == "Person"]
    lv2_f1, lv2_p, lv2_r = f1([(r["is_match"] == "true", r["predicted_match"] == "true")
                               for r in lv2])

    print(f"data: {data}")
    print(f"threshold: {thr}")
    print(f"cases.csv person pairs: {len(persons)} "
          f"({sum(1 for t, _ in rows if t)} match, {sum(1 for t, _ in rows if not t)} not)")
    print(f"  F1 ours     {ours:.3f}  (precision {p:.3f}, recall {rc:.3f})   target >= 0.80")
    print(f"  F1 logic-v2 {lv2_f1:.3f}  (precision {lv2_p:.3f}, recall {lv2_r:.3f}, "
          f"{len(lv2)} pairs, its threshold 0.7)")
    if args.sweep:
        for t in [x / 100 for x in range(55, 96, 2)]:
            fx, px, rx = f1([(r["is_match"] == "true", s >= t) for r, s in scored])
            print(f"    t={t:.2f} F1 {fx:.3f} P {px:.3f} R {rx:.3f}")

    wrong = [(r, s) for r, s in scored if (r["is_match"] == "true") != (s >= thr)]
    strong = [(r, s) for r, s in wrong if r["quality"] == "STRONG"]
    n_strong = sum(1 for r in persons if r["quality"] == "STRONG")
    print(f"  STRONG-labelled pairs wrong: {len(strong)} of {n_strong}")
    for r, s in strong:
        print(f"    {r['name1']!r} ~ {r['name2']!r}: label {r['is_match']}, score {s:.3f}")
    if args.errors:
        for r, s in wrong:
            print(f"    [{r['quality']}] {r['name1']!r} ~ {r['name2']!r}: "
                  f"label {r['is_match']}, score {s:.3f}")

    with open(data / "ofac_fixtures.csv", newline="", encoding="utf-8") as fh:
        ofac = list(csv.DictReader(fh))
    ours_o = [compare_names(r["query_name"], r["result_name"]) for r in ofac]
    theirs = [max(0.0, float(r["ofac_score"])) / 100 for r in ofac]
    rho = spearman(ours_o, theirs)
    print(f"OFAC fixtures: {len(ofac)} pairs; Spearman rank correlation with OFAC {rho:.3f}")
    for cut in (0.95, 0.90, 0.85):
        agree = sum(1 for a, b in zip(ours_o, theirs, strict=True) if (a >= thr) == (b >= cut))
        print(f"  agreement (ours >= {thr} vs OFAC >= {cut:.0%}): {agree}/{len(ofac)}")
    top = sum(1 for a, b in zip(ours_o, theirs, strict=True) if b >= 0.97 and a >= thr)
    n_top = sum(1 for b in theirs if b >= 0.97)
    print(f"  OFAC's near-certain pairs (>= 97) that we match: {top}/{n_top}")

    pairs = []
    with open(data / "cross_script_pairs.csv", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            q, e, *_ = next(csv.reader([line]))
            pairs.append((q, e))
    hits = [(q, e, compare_names(q, e)) for q, e in pairs]
    n_hit = sum(1 for _, _, s in hits if s >= thr)
    print(f"cross-script pairs matched: {n_hit} of {len(pairs)} (target >= 20)")
    for q, e, s in hits:
        if s < thr:
            print(f"    missed {q} ~ {e}: {s:.3f}")


if __name__ == "__main__":
    main()
