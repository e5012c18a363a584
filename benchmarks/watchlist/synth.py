"""Synthetic watchlist entries (the entry contract's JSON) for benchmarks, reproducible by seed."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from faker import Faker

NOTICE_TYPES = ("red", "green", "blue", "yellow", "orange", "purple", "black", "diffusion")
ACTIONS = ("inform_only", "discreet_check", "specific_check", "locate_and_detain")
BUREAUS = ("FRA", "DEU", "ITA", "ESP", "NLD", "POL", "USA", "GBR", "TUR", "BRA", "NGA", "JPN")


def entries(n: int, seed: int = 7) -> list[dict[str, Any]]:
    fake = Faker(["en_US", "de_DE", "fr_FR", "ru_RU", "es_ES", "tr_TR"])
    fake.seed_instance(seed)
    rng = random.Random(seed)
    # Faker per entry is slow; draw from pools of its names instead.
    surnames = [fake.last_name() for _ in range(5000)]
    given = [fake.first_name() for _ in range(3000)]
    out = []
    for i in range(n):
        owner = rng.choice(BUREAUS)
        aliases = [
            {"surname": rng.choice(surnames), "given_names": rng.choice(given)}
            for _ in range(rng.randint(0, 3))
        ]
        restricted = rng.random() < 0.1
        out.append(
            {
                "id": f"bench-{seed}-{i:07d}",
                "notice": {
                    "type": rng.choice(NOTICE_TYPES),
                    "reference": f"2026/{seed}-{i:07d}",
                    "issued_at": "2026-01-01T00:00:00+00:00",
                },
                "owner_bureau": owner,
                "subject": {
                    "surname": rng.choice(surnames),
                    "given_names": " ".join(rng.sample(given, rng.randint(1, 2))),
                    "aliases": aliases,
                    "date_of_birth": f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}",
                    "sex": rng.choice("MF"),
                    "nationalities": [rng.choice(BUREAUS)],
                    "documents": [
                        {
                            "type": "P",
                            "number": f"{rng.randint(10**8, 10**9 - 1)}",
                            "issuing_state": rng.choice(BUREAUS),
                        }
                    ],
                },
                "case": {
                    "category": "nuclear_smuggling",
                    "summary": "Synthetic benchmark entry.",
                    "requested_action": rng.choice(ACTIONS),
                },
                "distribution": (
                    {"mode": "restricted", "allow": rng.sample(BUREAUS, 2), "deny": []}
                    if restricted
                    else {"mode": "all", "allow": [], "deny": []}
                ),
            }
        )
    for e in out:  # an owner is never denied nor needs allowing
        allow = e["distribution"]["allow"]
        if e["owner_bureau"] in allow:
            allow.remove(e["owner_bureau"])
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
