"""The screening loop's shortcuts (speed round 2) give exactly what the plain computation gives:
candidate sets cut by birth year, token resolution, and the bounds that skip candidates."""

from __future__ import annotations

import pytest

import failsafe.matching.index as index_module
from failsafe.matching import WatchlistIndex
from failsafe.matching.blocking import query_tokens


def _big_index() -> WatchlistIndex:
    # Three tokens with posting sets well above the size at which they are cut by birth year
    # (`_SPLIT_MIN`), of different sizes, with owners over 60 years and some without a date.
    entries = []
    for i in range(900):
        given = ["VAN", "THI", "VAN THI"][i % 3] + f" X{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}"
        surname = "NGUYEN" if i % 2 else "TRAN"
        dob = None if i % 7 == 0 else f"{1940 + i % 60}-0{1 + i % 9}-1{i % 10}"
        entries.append({"id": f"e{i}", "subject": {"surname": surname, "given_names": given,
                                                   "date_of_birth": dob}})
    ix = WatchlistIndex()
    ix.add_many(entries)
    return ix


def test_candidates_cut_by_birth_year_are_the_uncut_ones_in_the_window() -> None:
    ix = _big_index()
    for names in (("NGUYEN", "VAN", "THI"), ("TRAN", "THI"), ("NGUYEN", "VAN"),
                  ("TRAN", "NGUYEN", "VAN", "THI")):
        toks = query_tokens(names)
        hits = [ix._hits(t, ix._cache) for t in toks]
        assert max(len(h.multi) for h in hits) >= 300
        plain = ix._candidates(toks, hits)
        for year in (1939, 1940, 1950, 1975, 1999, 2000):
            cut = ix._candidates(toks, hits, (year,)) & ix._window(year)
            assert cut == plain & ix._window(year)
            assert cut  # the test would hold vacuously otherwise


_SURNAMES = ["PETROV", "PETROVA", "PETROFF", "IVANOV", "MOZAFFARI", "MOZAFFARINIA", "NIA",
             "HASSAN", "HASAN", "KHAN", "BARAKAT", "BARKAT", "SMITH", "SMYTH", "NGUYEN"]
_GIVEN = ["IVAN", "IWAN", "ANNA", "ANA", "ALI", "MOHAMMAD", "MUHAMMAD", "JOHN", "JON",
          "VAN MINH", "SERGEY IVAN", "ALI REZA"]


def _names_index() -> WatchlistIndex:
    entries = []
    for i, (s, g) in enumerate((s, g) for s in _SURNAMES for g in _GIVEN):
        dob = None if i % 5 == 0 else f"{1960 + i % 9}-0{1 + i % 9}-1{i % 10}"
        entries.append({"id": f"e{i}", "subject": {"surname": s, "given_names": g,
                                                   "date_of_birth": dob}})
    entries.append({"id": "joined", "subject": {"surname": "MOZAFFARI NIA",
                                                "given_names": "ALI", "date_of_birth": None}})
    ix = WatchlistIndex()
    ix.add_many(entries)
    return ix


def test_screening_at_a_threshold_keeps_every_match_a_full_scoring_finds_above_it() -> None:
    # The shortcuts (date bound, name-score bound before scoring, cached comparisons) only
    # skip candidates that cannot reach the threshold: screening at 0 scores every candidate.
    ix = _names_index()
    queries = [(s, g, d) for s in ("PETROV", "MOZAFFARINIA", "HASAN KHAN", "BARKAT", "SMITH")
               for g in ("IVAN", "ALI", "MUHAMMAD", "JON", "ANNA MARIA")
               for d in (None, "1963-04-13", "1961", "1990-01-05")]
    seen = 0
    for surname, given, dob in queries:
        ev = {"event_id": "x", "traveller": {"surname": surname, "given_names": given,
                                             "date_of_birth": dob}}
        every = {m.entry_id: m.score for m in ix.screen(ev, threshold=0.0, limit=None)}
        for threshold in (0.6, 0.8, 0.9):
            got = {m.entry_id: m.score for m in ix.screen(ev, threshold=threshold, limit=None)}
            assert got == {e: s for e, s in every.items() if e in got}
            assert {e for e, s in every.items() if s >= threshold + 1e-4} <= set(got)
            seen += len(got)
    assert seen > 100


def test_a_replaced_entry_is_compared_with_its_new_date_of_birth() -> None:
    ix = _names_index()
    ev = {"event_id": "x", "traveller": {"surname": "IVANOV", "given_names": "SERGEY IVAN",
                                         "date_of_birth": "1975-02-03"}}
    assert "r" not in {m.entry_id for m in ix.screen(ev)}
    ix.upsert({"id": "r", "subject": {"surname": "IVANOV", "given_names": "SERGEY IVAN",
                                      "date_of_birth": "1975-09-20"}})
    # The same year, month and day different: compared (and remembered), a far date.
    assert [m.method for m in ix.screen(ev, threshold=0.5) if m.entry_id == "r"] == ["name"]
    ix.upsert({"id": "r", "subject": {"surname": "IVANOV", "given_names": "SERGEY IVAN",
                                      "date_of_birth": "1975-02-03"}})
    [m] = [m for m in ix.screen(ev) if m.entry_id == "r"]
    assert m.method == "name_dob"


def test_the_token_cache_is_emptied_past_its_element_budget_and_screens_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A common token's posting union holds thousands of names: the cache is bounded by the set
    # elements its tokens hold, not only by how many tokens it has.
    ix = _big_index()
    names = [("NGUYEN", "VAN XA"), ("TRAN", "THI XB"), ("NGUYEN", "THI"), ("TRAN", "VAN THI XC"),
             ("NGUYEN", "VAN")] * 3
    queries = [
        {"event_id": f"q{i}", "traveller": {
            "surname": s, "given_names": g,
            "date_of_birth": f"{1940 + i * 7 % 60}-0{1 + i % 9}-1{i % 10}"}}
        for i, (s, g) in enumerate(names)
    ]
    want = [ix.screen(q, threshold=0.5) for q in queries]
    assert any(want)  # the comparison below would hold vacuously otherwise
    roomy = len(ix._cache)
    ix._invalidate()
    monkeypatch.setattr(index_module, "_TOKEN_CACHE_ELEMENTS", 400)
    got = []
    for q in queries:
        got.append(ix.screen(q, threshold=0.5))
        held = ix._cache_held
        generations = [ix._cache, held[2]]
        biggest = max(index_module._elements(h) for g in generations for h in g.values())
        # Past the budget the cache becomes the older generation: each holds at most the
        # budget plus the last token (and its cuts, counted as they are made).
        # (Never under what it holds: a cut made on a token of the older generation counts.)
        assert held[1] >= sum(map(index_module._elements, ix._cache.values()))
        for generation in generations:
            assert sum(map(index_module._elements, generation.values())) <= 400 + 2 * biggest
        assert not ix._cache.keys() & held[2].keys()
    assert len(ix._cache) < roomy
    assert got == want


def test_a_token_in_use_outlives_the_turn_of_the_token_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Emptying the whole cache past its budget made every pass over a big list cold: a token
    # asked for again after the turn is moved back from the older generation, not resolved
    # again; one not asked for is dropped at the next turn.
    ix = _big_index()
    # Room for two of these tokens (NGUYEN 450 elements, TRAN 440, THI 594, VAN 593).
    monkeypatch.setattr(index_module, "_TOKEN_CACHE_ELEMENTS", 1100)
    nguyen = ix._hits("NGUYEN", ix._cache)
    tran = ix._hits("TRAN", ix._cache)
    ix._hits("THI", ix._cache)  # past the budget: NGUYEN and TRAN become the older generation
    assert set(ix._cache) == {"THI"} and set(ix._cache_held[2]) == {"NGUYEN", "TRAN"}
    assert ix._hits("NGUYEN", ix._cache) is nguyen  # asked again: moved back, not resolved
    ix._hits("VAN", ix._cache)  # the next turn: TRAN, not asked for since, is dropped
    assert ix._hits("NGUYEN", ix._cache) is nguyen
    assert ix._hits("TRAN", ix._cache) is not tran


def test_the_date_memo_is_emptied_past_its_size_and_screens_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Per query date, each entry's comparison and each name record's bound are kept across
    # queries (`_ceiling`); past `_DOB_MEMO_MAX` of them the memo is emptied in place, also in
    # the middle of a query, which must still see every candidate.
    ix = _big_index()
    queries = [
        {"event_id": f"q{i}", "traveller": {
            "surname": s, "given_names": g,
            "date_of_birth": f"{1940 + i * 7 % 60}-0{1 + i % 9}-1{i % 10}"}}
        for i, (s, g) in enumerate([("NGUYEN", "VAN XA"), ("TRAN", "THI XB"),
                                    ("NGUYEN", "VAN THI"), ("TRAN", "VAN THI XC")] * 3)
    ]
    want = [ix.screen(q, threshold=0.5) for q in queries]
    assert sum(map(len, want)) > 20
    assert ix._dob_memo[2][0] > 50
    ix._invalidate()
    monkeypatch.setattr(index_module, "_DOB_MEMO_MAX", 7)
    got = []
    for q in queries:
        got.append(ix.screen(q, threshold=0.5))
        by_entry, ceilings = next(iter(ix._dob_memo[1].values()))
        assert len(ix._dob_memo[1]) == 1  # earlier dates dropped with the rest
        assert ix._dob_memo[2][0] == len(by_entry) + len(ceilings)
    assert got == want
