"""Guard: the neighbour table (`neighbours.py`), built in batches when a list is loaded and kept
current by later writes, gives every list token exactly what `similar_tokens` gives it: the
same partners, the same similarities. And screening with it finds the same matches, with the
same scores, as resolving each token on its own."""

from __future__ import annotations

import random

import pytest

from failsafe.matching import Params, WatchlistIndex, neighbours
from failsafe.matching.blocking import similar_tokens

SURNAMES = [
    "PETROV", "PETROVA", "SORENSEN", "WILLIAMS", "MOZAFFARI-NIA", "BARAKAT", "BARKAT", "MAWAFI",
    "MOWAFI", "KAZEMABAD", "FEHER", "PHEHER", "RADU", "RAU", "KAUL", "KRUL", "SAHA", "SAAH",
    "LUTTRELL", "NGUYEN", "KOWALSKA", "ALBANESE", "ALBANO", "SCHMIDT", "SHMIDT", "PHILLIPS",
    "KHALIL", "GARCIA", "RODRIGUEZ", "TAN", "VAN", "LEE", "O", "ELISEEV", "ELISEEVA", "MARIA",
    "MARIO", "GONZALEZ", "HERNANDEZ", "MARTINEZ", "ANDERSON", "ANDERSEN", "JOHANSSON",
]
GIVEN = ["IVAN", "VLADIMIR", "ULADZIMIR", "VOLODYMYR", "VIKTOR", "VIKTAR", "VICTOR", "ANNA",
         "YUSUF", "JOSEPH", "MOHAMMED", "MUHAMMAD", "MEHMET", "JOHN", "JON", "E", "J", "ANTHONY"]
# Vowel-less scripts give lower-case tokens (compared on skeletons), and one-letter ones.
SCRIPTS = ["محمد علي حسن", "يوسف بن علي", "ب حسن", "יוסף כהן", "משה לוי", "د محمد"]


def _typo(token: str, rng: random.Random) -> str:
    if len(token) < 3:
        return token
    i = rng.randrange(1, len(token) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return token[:i] + token[i + 1:]
    if kind == 1:
        return token[:i] + token[i] + token[i:]
    if kind == 2:
        return token[:i] + rng.choice("AEIOUKSTR") + token[i + 1:]
    return token[:i] + token[i + 1] + token[i] + token[i + 2:]


def _entries(n: int, seed: int, prefix: str) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for k in range(n):
        if k % 25 == 0:
            subject: dict[str, object] = {"full_name": rng.choice(SCRIPTS)}
        else:
            surname = rng.choice(SURNAMES)
            given = rng.choice(GIVEN)
            if rng.random() < 0.6:
                surname = _typo(surname, rng)
            if rng.random() < 0.3:
                given = _typo(given, rng)
            subject = {"surname": surname, "given_names": given}
        out.append({"id": f"{prefix}{k}", "subject": subject})
    return out


def _index(params: Params, table: bool, entries: list[dict[str, object]]) -> WatchlistIndex:
    index = WatchlistIndex(params)
    index.neighbour_table_min = 0 if table else 10**9
    index.add_many(entries)
    return index


def _rows_differing(index: WatchlistIndex) -> list[str]:
    table = index._neighbours
    assert table is not None and len(table) == len(index._vtok)
    return [tok for vid, tok in enumerate(index._vtok)
            if table[vid] != similar_tokens(tok, index._vocab, index._buckets, index.params)]


PARAMS = [Params(), Params(typo_sim=0.97, weak_sim=0.0), Params(edit_mix=0.0)]


@pytest.mark.parametrize("params", PARAMS)
def test_the_batch_gives_every_token_what_similar_tokens_gives(params: Params) -> None:
    index = _index(params, True, _entries(3000, 1, "e"))
    # The case the batch has paths for: big buckets (a cdist matrix), small ones, lower-case
    # and one-letter tokens (upper and lower case).
    assert max(len(b) for b in index._buckets.values()) >= 50
    assert any(t.islower() for t in index._vtok)
    assert {"E", "J"} <= set(index._vtok) and any(len(t) == 1 and t.islower()
                                                   for t in index._vtok)
    assert _rows_differing(index) == []


@pytest.mark.parametrize("params", PARAMS[:2])
def test_writes_after_the_load_keep_the_table_current(params: Params) -> None:
    index = _index(params, True, _entries(3000, 2, "e"))
    size = len(index._vtok)
    # One at a time, new tokens among them: typed variants, new initials, script names.
    for entry in _entries(300, 3, "u"):
        index.upsert(entry)
    index.upsert({"id": "x1", "subject": {"surname": "QUIXOTE", "given_names": "Q"}})
    index.upsert({"id": "x2", "subject": {"full_name": "ق قاسم"}})
    index.remove("e5")
    # A second bulk load adding a few tokens: added one by one to the table.
    index.add_many(_entries(100, 4, "b"))
    assert len(index._vtok) > size
    assert _rows_differing(index) == []
    # The budget's count, kept as tokens come, is the buckets' own.
    assert index._pool_pairs == neighbours.pool_pairs(index._buckets)


def test_a_second_load_with_many_new_tokens_rebuilds_the_table() -> None:
    index = _index(Params(), True, _entries(500, 5, "e"))
    first = index._neighbours
    index.add_many(_entries(3000, 6, "f"))
    assert index._neighbours is not first
    assert _rows_differing(index) == []


def test_screening_finds_the_same_with_and_without_the_table() -> None:
    entries = _entries(3000, 7, "e")
    with_table, without = _index(Params(), True, entries), _index(Params(), False, entries)
    assert with_table._neighbours is not None and without._neighbours is None
    queries = _entries(400, 8, "q")
    found = 0
    for query in queries:
        subject = query["subject"]
        assert isinstance(subject, dict)
        event = {"event_id": "x", "traveller": subject}
        a = [m.to_dict() for m in with_table.screen(event, threshold=0.5)]
        b = [m.to_dict() for m in without.screen(event, threshold=0.5)]
        assert a == b
        found += bool(a)
    assert found > 150  # not a vacuous comparison: many queries match (192 of 400)


def test_past_the_pair_budget_tokens_are_resolved_one_at_a_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neighbours, "PAIR_BUDGET", 100)
    index = _index(Params(), True, _entries(500, 9, "e"))
    assert index._neighbours is None
    # ... and a list loaded in batches (the follower) is not extended past it either.
    monkeypatch.setattr(neighbours, "PAIR_BUDGET", 10**9)
    index = _index(Params(), True, _entries(500, 9, "e"))
    assert index._neighbours is not None
    budget = neighbours.pool_pairs(index._buckets)
    monkeypatch.setattr(neighbours, "PAIR_BUDGET", budget)
    index.add_many(_entries(50, 10, "f"))  # a few new tokens: would be extended
    assert index._neighbours is None
    # ... nor by entries added one at a time.
    monkeypatch.setattr(neighbours, "PAIR_BUDGET", 10**9)
    index = _index(Params(), True, _entries(500, 9, "e"))
    monkeypatch.setattr(neighbours, "PAIR_BUDGET", neighbours.pool_pairs(index._buckets))
    index.upsert({"id": "u1", "subject": {"surname": "PETROVSKAYA", "given_names": "IVAN"}})
    assert index._neighbours is None
    assert index._pool_pairs == neighbours.pool_pairs(index._buckets)
    assert index.screen({"event_id": "x", "traveller": {"surname": "PETROVSKAYA",
                                                        "given_names": "IVAN"}})
    assert index.screen({"event_id": "x", "traveller": {"surname": "PETROV",
                                                        "given_names": "IVAN"}}, threshold=0.5)
