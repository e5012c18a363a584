"""Namesakes through a middle initial: how often a traveller whose surname merely starts with a
listed person's middle initial alerts on that person.

    .venv/bin/python benchmarks/matching/initials.py
    .venv/bin/python benchmarks/matching/initials.py --src /tmp/base/src   # another engine

The list is the members of the US Congress in `../shared/data/name-matching/us_congress_persons.csv`
(public record; read in place, never copied), each listed as given names + surname with the
year of birth the file gives. For every member listed as GIVEN I SURNAME (ANTHONY G BROWN), up
to three travellers: the same given name, the surname of another member that starts with the
initial (GONZALEZ), and a date in the listed year. None of them is the listed person; each
alert on that person is a false positive. The control: the same members queried as GIVEN
SURNAME (the middle initial dropped, as travel documents often do), which must still alert.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("FAILSAFE_NAME_DATA", REPO.parent / "shared" / "data" / "name-matching"))
SUFFIXES = {"JR", "SR", "II", "III", "IV"}


def members(data: Path) -> list[tuple[str, list[str], str]]:
    """(id, name tokens in written order without suffixes, year) per member with a year."""
    out = []
    with (data / "us_congress_persons.csv").open(newline="", encoding="utf-8") as fh:
        for k, row in enumerate(csv.DictReader(fh)):
            words = row["full_name"].replace(".", " ").replace(",", " ").upper().split()
            words = [w for w in words if w not in SUFFIXES and '"' not in w]
            year = (row["date_of_birth"] or "")[:4]
            if len(words) >= 2 and year.isdigit():
                out.append((f"C{k}", words, year))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--src", type=Path, default=REPO / "src", help="the engine to measure")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--per-person", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(args.src.resolve()))
    from failsafe.matching import WatchlistIndex

    people = members(args.data)
    index = WatchlistIndex()
    index.add_many([
        {"id": pid, "subject": {"given_names": " ".join(words[:-1]), "surname": words[-1],
                                "date_of_birth": year}}
        for pid, words, year in people
    ])
    surnames = sorted({words[-1] for _, words, _ in people})
    rng = random.Random(7)
    travellers = alerts = controls = found = 0
    for pid, words, year in people:
        if len(words) != 3 or len(words[1]) != 1:
            continue  # GIVEN I SURNAME only
        controls += 1
        control = {"given_names": words[0], "surname": words[2], "date_of_birth": f"{year}-06-15"}
        found += any(m.entry_id == pid for m in index.screen({"traveller": control}))
        pool = [s for s in surnames if s[0] == words[1] and s != words[2]]
        for surname in rng.sample(pool, min(args.per_person, len(pool))):
            travellers += 1
            t = {"given_names": words[0], "surname": surname, "date_of_birth": f"{year}-06-15"}
            alerts += any(m.entry_id == pid for m in index.screen({"traveller": t}))
    print(f"engine {args.src}")
    print(f"namesakes through a middle initial: {alerts}/{travellers} alert on the listed "
          f"person ({alerts / max(travellers, 1):.1%})")
    print(f"control, the same members without their middle initial: {found}/{controls} found "
          f"({found / max(controls, 1):.1%})")


if __name__ == "__main__":
    main()
