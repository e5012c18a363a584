"""Synthetic watchlists and traffic for the scale benchmark (faker, many locales and scripts).

Name pools are drawn from faker once per locale, then sampled (drawing every name from faker
would dominate the run time). Non-Latin locales give `name_original` in their script and a
Latin passport spelling (what an MRZ carries). Traffic mixes planted true hits, perturbed the
way real data is (typos, swapped name order, transliteration variants, dropped middle names,
day/month swaps), with non-hits: fresh identities from the same pools.
"""

from __future__ import annotations

import random
import string
import unicodedata
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii
from faker import Faker
from faker.config import AVAILABLE_LOCALES

# (faker locale, ICAO nationality, script is Latin)
LOCALES: list[tuple[str, str, bool]] = [
    ("en_US", "USA", True), ("en_GB", "GBR", True), ("de_DE", "D", True),
    ("fr_FR", "FRA", True), ("es_ES", "ESP", True), ("es_MX", "MEX", True),
    ("it_IT", "ITA", True), ("pt_BR", "BRA", True), ("pl_PL", "POL", True),
    ("nl_NL", "NLD", True), ("sv_SE", "SWE", True), ("tr_TR", "TUR", True),
    ("cs_CZ", "CZE", True), ("hu_HU", "HUN", True), ("ro_RO", "ROU", True),
    ("id_ID", "IDN", True), ("vi_VN", "VNM", True), ("fi_FI", "FIN", True),
    ("ru_RU", "RUS", False), ("uk_UA", "UKR", False), ("bg_BG", "BGR", False),
    ("el_GR", "GRC", False), ("ar_AA", "SAU", False), ("fa_IR", "IRN", False),
    ("he_IL", "ISR", False), ("zh_CN", "CHN", False), ("ja_JP", "JPN", False),
    ("ko_KR", "KOR", False), ("hi_IN", "IND", False), ("th_TH", "THA", False),
    ("ka_GE", "GEO", False), ("hy_AM", "ARM", False),
]
POOL = 1500
# Events carry what the schema requires (`failsafe screen` validates them as the API does).
OCCURRED_AT = "2026-11-27T10:22:05+01:00"
NOTICES = ["red", "green", "blue", "yellow", "orange", "purple", "black", "un_special",
           "diffusion"]


def latin(s: str) -> str:
    return anyascii(s).upper().replace("'", "").replace("`", "")


@dataclass
class Pools:
    first_m: list[str]
    first_f: list[str]
    last: list[str]
    nationality: str
    is_latin: bool
    composed: bool = False  # given names already hold their parts: draw one


# Scripts that build given names (and Japanese surnames) from a small stock of syllables or
# characters: faker lists only a few dozen whole names for them, far fewer than real life has.
_COMPOSED = {"zh_CN", "ja_JP", "ko_KR", "vi_VN"}
_DEPRECATED = {"fr_QC"}


def _script(name: str) -> str:
    ch = next((c for c in name if c.isalpha()), "")
    return unicodedata.name(ch, "?").split()[0] if ch else "?"


def _sisters(loc: str) -> list[str]:
    """Faker locales of the same language (en_US: en, en_GB, en_AU...): one bigger pool."""
    lang = loc.split("_")[0]
    out = [x for x in AVAILABLE_LOCALES
           if (x == lang or x.startswith(lang + "_")) and x not in _DEPRECATED]
    if lang == "zh":
        out = ["zh_CN"]  # zh_TW writes traditional characters: another script variant
    return sorted(set(out) | {loc})


def _compose(rng: random.Random, names: list[str], n: int, sep: str = "") -> list[str]:
    """Given names made of two parts of the pool's names (characters or syllables)."""
    parts = sorted({ch for name in names for ch in (name.split() if sep else name)})
    if len(parts) < 2:
        return names
    out = set(names)
    for _ in range(n):
        a, b = rng.sample(parts, 2)
        out.add(f"{a}{sep}{b}")
    return sorted(out)


def build_pools(seed: int) -> list[Pools]:
    pools = []
    rng = random.Random(seed)
    for loc, nat, is_latin in LOCALES:
        fakers = []
        for sister in _sisters(loc):
            fk = Faker(sister)
            fk.seed_instance(seed)
            fakers.append(fk)

        script = _script(Faker(loc).last_name())

        def draw(attr: str, fakers: list[Faker] = fakers, script: str = script) -> list[str]:
            seen: set[str] = set()
            for fk in fakers:
                fn = getattr(fk, attr)
                seen.update(fn() for _ in range(POOL))
            # Sister locales may write another script (el_CY, ar_*): keep the locale's own.
            return sorted(x for x in seen
                          if x and " " not in x.strip() and _script(x) == script)

        first_m, first_f, last = (draw("first_name_male"), draw("first_name_female"),
                                  draw("last_name"))
        if loc in _COMPOSED:
            if loc == "vi_VN":
                middle = list(fakers[0].provider("faker.providers.person").middle_names)
                first_m = _compose(rng, [*first_m, *middle], 300, " ")
                first_f = _compose(rng, [*first_f, *middle], 300, " ")
            else:
                first_m = _compose(rng, first_m, POOL)
                first_f = _compose(rng, first_f, POOL)
            if loc == "ja_JP":
                last = _compose(rng, [x for x in last if len(x) == 2], POOL // 3)
        pools.append(Pools(first_m, first_f, last, nat, is_latin, loc in _COMPOSED))
    return pools


def random_dob(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)


def doc_number(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_uppercase[:8], k=2)) + "".join(
        rng.choices(string.digits, k=7))


@dataclass
class Person:
    given: list[str]  # native script
    surname: str
    sex: str
    dob: tuple[int, int, int]
    pool: Pools


def random_person(rng: random.Random, pools: list[Pools]) -> Person:
    pool = rng.choice(pools)
    sex = rng.choice("MF")
    firsts = pool.first_m if sex == "M" else pool.first_f
    n_given = 1 if pool.composed or rng.random() < 0.6 else 2
    given = rng.sample(firsts, n_given) if len(firsts) >= n_given else firsts[:1]
    surname = rng.choice(pool.last)
    if pool.is_latin and rng.random() < 0.25:
        surname = f"{surname} {rng.choice(pool.last)}"  # double surnames
    return Person(given, surname, sex, random_dob(rng), pool)


def make_entry(i: int, p: Person, rng: random.Random, pools: list[Pools]) -> dict[str, Any]:
    y, m, d = p.dob
    r = rng.random()
    dob: str | None
    if r < 0.75:
        dob = f"{y:04d}-{m:02d}-{d:02d}"
    elif r < 0.87:
        dob = f"{y:04d}-{m:02d}"
    elif r < 0.95:
        dob = f"{y:04d}"
    else:
        dob = None
    given = " ".join(p.given)
    subject: dict[str, Any] = {
        "surname": latin(p.surname), "given_names": latin(given), "sex": p.sex,
        "date_of_birth": dob, "nationalities": [p.pool.nationality],
    }
    if not p.pool.is_latin:
        subject["name_original"] = f"{given} {p.surname}"
    aliases: list[dict[str, str]] = []
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        if rng.random() < 0.5:
            other = random_person(rng, [p.pool])
            aliases.append({"surname": latin(other.surname), "given_names": latin(given)})
        else:
            aliases.append({"full_name": f"{latin(p.surname)} {latin(p.given[0])}"})
    subject["aliases"] = aliases
    if rng.random() < 0.6:
        subject["documents"] = [{"type": "P", "number": doc_number(rng),
                                 "issuing_state": p.pool.nationality}]
    return {
        "id": f"E{i:07d}", "status": "active", "owner_bureau": "FRA",
        "notice": {"type": rng.choice(NOTICES), "reference": f"2026/{i}"},
        "subject": subject,
    }


def generate_watchlist(n: int, seed: int = 1) -> tuple[list[dict[str, Any]], list[Pools]]:
    rng = random.Random(seed)
    pools = build_pools(seed)
    return [make_entry(i, random_person(rng, pools), rng, pools) for i in range(n)], pools


_TRANSLIT = [("V", "W"), ("W", "V"), ("KH", "H"), ("Y", "I"), ("I", "Y"), ("J", "Y"),
             ("OU", "U"), ("U", "OU"), ("SH", "SCH"), ("C", "K"), ("K", "C"), ("PH", "F"),
             ("F", "PH"), ("EI", "EY"), ("IE", "I"), ("X", "KS"), ("TS", "C"), ("YA", "IA")]


def typo(token: str, rng: random.Random) -> str:
    if len(token) < 4:
        return token
    i = rng.randrange(1, len(token) - 1)
    op = rng.choice(["sub", "del", "ins", "swap"])
    ch = rng.choice(string.ascii_uppercase)
    if op == "sub":
        return token[:i] + ch + token[i + 1:]
    if op == "del":
        return token[:i] + token[i + 1:]
    if op == "ins":
        return token[:i] + ch + token[i:]
    return token[:i] + token[i + 1] + token[i] + token[i + 2:]


def translit(token: str, rng: random.Random) -> str:
    options = [(a, b) for a, b in _TRANSLIT if a in token]
    if not options:
        return token
    a, b = rng.choice(options)
    return token.replace(a, b, 1)


def planted_hit(entry: dict[str, Any], k: int, rng: random.Random) -> tuple[dict[str, Any], str]:
    s = entry["subject"]
    surname, given = s["surname"], s["given_names"]
    kind = rng.choice(["exact", "typo", "swap", "translit", "drop_middle", "dob_swap", "typo",
                       "translit"])
    sur_t, giv_t = surname.split(), given.split()
    if kind == "typo":
        if rng.random() < 0.5:
            j = rng.randrange(len(sur_t))
            sur_t[j] = typo(sur_t[j], rng)
        else:
            j = rng.randrange(len(giv_t))
            giv_t[j] = typo(giv_t[j], rng)
    elif kind == "translit":
        j = rng.randrange(len(sur_t))
        sur_t[j] = translit(sur_t[j], rng)
    elif kind == "drop_middle" and len(giv_t) > 1:
        giv_t = giv_t[:1]
    elif kind == "drop_middle" and len(sur_t) > 1:
        sur_t = sur_t[:1]
    traveller: dict[str, Any] = {"surname": " ".join(sur_t), "given_names": " ".join(giv_t),
                                 "sex": s["sex"], "nationality": s["nationalities"][0]}
    if kind == "swap":
        traveller = {"full_name": f"{surname} {given}", "sex": s["sex"]}
    dob = s.get("date_of_birth")
    if dob is None:
        y, m, d = random_dob(rng)
    else:
        parts = [int(x) for x in dob.split("-")]
        y = parts[0]
        m = parts[1] if len(parts) > 1 else rng.randint(1, 12)
        d = parts[2] if len(parts) > 2 else rng.randint(1, 28)
    if kind == "dob_swap" and d <= 12 and d != m and dob is not None and dob.count("-") == 2:
        m, d = d, m
    traveller["date_of_birth"] = f"{y:04d}-{m:02d}-{d:02d}"
    return ({"event_id": f"hit-{k}", "kind": "border_crossing", "occurred_at": OCCURRED_AT,
             "traveller": traveller,
             "document": {"type": "P", "number": doc_number(rng),
                          "issuing_state": s["nationalities"][0]}}, kind)


def non_hit(k: int, pools: list[Pools], rng: random.Random) -> dict[str, Any]:
    p = random_person(rng, pools)
    y, m, d = p.dob
    return {"event_id": f"non-{k}", "kind": "border_crossing", "occurred_at": OCCURRED_AT,
            "traveller": {"surname": latin(p.surname), "given_names": latin(" ".join(p.given)),
                          "sex": p.sex, "nationality": p.pool.nationality,
                          "date_of_birth": f"{y:04d}-{m:02d}-{d:02d}"},
            "document": {"type": "P", "number": doc_number(rng),
                         "issuing_state": p.pool.nationality}}


def generate_traffic(
    entries: list[dict[str, Any]], pools: list[Pools], hits: int, non_hits: int, seed: int = 2
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """Events, shuffled, and for each planted hit its (entry id, perturbation kind)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    truth: dict[str, tuple[str, str]] = {}
    for k in range(hits):
        entry = rng.choice(entries)
        ev, kind = planted_hit(entry, k, rng)
        truth[ev["event_id"]] = (entry["id"], kind)
        events.append(ev)
    events.extend(non_hit(k, pools, rng) for k in range(non_hits))
    rng.shuffle(events)
    return events, truth
