"""The watchlist index: retrieval, incremental changes, explanations, thresholds."""

from __future__ import annotations

import threading
from typing import Any

from failsafe.matching import DEFAULT_THRESHOLD, WatchlistIndex, entry_from_dict


def entry(eid: str, surname: str, given: str, dob: str | None = "1970-03-14",
          **extra: Any) -> dict[str, Any]:
    subject: dict[str, Any] = {"surname": surname, "given_names": given, "date_of_birth": dob}
    subject.update(extra)
    return {"id": eid, "status": "active", "subject": subject}


def event(surname: str, given: str, dob: str | None = "1970-03-14",
          **extra: Any) -> dict[str, Any]:
    traveller: dict[str, Any] = {"surname": surname, "given_names": given, "date_of_birth": dob}
    traveller.update(extra)
    return {"event_id": "ev", "traveller": traveller}


def make_index(*entries: dict[str, Any]) -> WatchlistIndex:
    ix = WatchlistIndex()
    ix.add_many(entries)
    return ix


def test_exact_name_and_dob_is_name_dob_match() -> None:
    ix = make_index(entry("e1", "PETROV", "IVAN"), entry("e2", "SMITH", "JOHN"))
    [m] = ix.screen(event("Petrov", "Ivan"))
    assert (m.entry_id, m.method) == ("e1", "name_dob")
    assert m.score >= 0.95


def test_typo_swapped_order_and_transliteration_are_found() -> None:
    ix = make_index(entry("e1", "PETROV", "IVAN SERGEYEVICH"))
    assert ix.screen(event("PETROFF", "IVAN"))  # typo-like variant, dropped patronymic
    assert ix.screen({"event_id": "x", "traveller": {"full_name": "PETROV IVAN",
                                                     "date_of_birth": "1970-03-14"}})
    assert ix.screen(event("", "", name_original="Иван Петров"))


def test_different_dob_lowers_below_threshold() -> None:
    ix = make_index(entry("e1", "PETROV", "IVAN"))
    assert ix.screen(event("PETROV", "IVAN", "1990-11-02")) == []
    [m] = ix.screen(event("PETROV", "IVAN", "1990-11-02"), threshold=0.3)
    assert m.score < DEFAULT_THRESHOLD


def test_day_month_swap_is_a_near_match() -> None:
    ix = make_index(entry("e1", "PETROV", "IVAN", "1970-03-04"))
    [m] = ix.screen(event("PETROV", "IVAN", "1970-04-03"))
    assert DEFAULT_THRESHOLD <= m.score < 1.0


def test_document_match_wins_even_with_a_different_name() -> None:
    doc = {"type": "P", "number": "753 123-456", "issuing_state": "RUS"}
    ix = make_index(entry("e1", "PETROV", "IVAN", documents=[doc]))
    ev = event("DOE", "JANE", "1999-01-01")
    ev["document"] = {"number": "753123456", "issuing_state": "RUS"}
    [m] = ix.screen(ev)
    assert m.method == "document"
    assert m.explanation[0]["feature"] == "document_number"
    ev["document"] = {"number": "753123456", "issuing_state": "UKR"}
    assert ix.screen(ev) == []


def test_single_common_token_never_alerts() -> None:
    ix = make_index(entry("e1", "SMITH", "JOHN", None), entry("e2", "MOHAMMED", "", None))
    assert ix.screen(event("SMITH", "")) == []
    assert ix.screen(event("MOHAMMED", "ALI")) == []


def test_explanation_shape() -> None:
    ix = make_index(entry("e1", "PETROV", "IVAN", sex="M", nationalities=["RUS"]))
    [m] = ix.screen(event("PETROV", "IVAN", sex="M", nationality="RUS"))
    features = [x["feature"] for x in m.explanation]
    assert {"name", "date_of_birth", "sex", "nationality"} <= set(features)
    for x in m.explanation:
        extra = {"agreement", "detail"} if x["feature"] == "date_of_birth" else set()
        assert set(x) == {"feature", "score", "query", "candidate"} | extra
        assert 0.0 <= x["score"] <= 1.0
    assert m.to_dict()["entry_id"] == "e1"


def test_incremental_add_replace_remove() -> None:
    ix = make_index(entry("e1", "PETROV", "IVAN"))
    ix.upsert(entry("e2", "KOWALSKI", "JAN"))
    assert [m.entry_id for m in ix.screen(event("KOWALSKI", "JAN"))] == ["e2"]
    ix.upsert(entry("e2", "NOWAK", "ANNA"))  # replace: the old name stops matching
    assert ix.screen(event("KOWALSKI", "JAN")) == []
    assert [m.entry_id for m in ix.screen(event("NOWAK", "ANNA"))] == ["e2"]
    assert ix.remove("e2") is True
    assert ix.screen(event("NOWAK", "ANNA")) == []
    assert ix.remove("e2") is False
    cancelled = entry("e1", "PETROV", "IVAN")
    cancelled["status"] = "cancelled"
    ix.upsert(cancelled)
    assert len(ix) == 0


def test_shared_names_survive_removal_of_one_owner() -> None:
    ix = make_index(entry("a", "PETROV", "IVAN"), entry("b", "PETROV", "IVAN"))
    ix.remove("a")
    assert [m.entry_id for m in ix.screen(event("PETROV", "IVAN"))] == ["b"]


def test_expired_and_inactive_entries_not_indexed() -> None:
    expired = entry("e1", "PETROV", "IVAN")
    expired["notice"] = {"expires_at": "2001-01-01T00:00:00+00:00"}
    assert entry_from_dict(expired) is None
    assert entry_from_dict({**entry("e2", "A", "B"), "status": "cancelled"}) is None
    assert entry_from_dict({"subject": {"surname": "NO ID"}}) is None
    assert entry_from_dict({"id": "x"}) is None  # no name, no document


def test_threshold_and_limit() -> None:
    ix = make_index(*[entry(f"e{i}", "PETROV", "IVAN") for i in range(5)])
    assert len(ix.screen(event("PETROV", "IVAN"), limit=2)) == 2
    assert ix.screen(event("PETROV", "IVAN"), threshold=1.01) == []
    scores = [m.score for m in ix.screen(event("PETROV", "IVAN"))]
    assert scores == sorted(scores, reverse=True)


def test_tolerant_adapters() -> None:
    ix = WatchlistIndex()
    ix.upsert({"id": 7, "unknown": {"x": 1}, "subject": {"full_name": "Ivan Petrov",
                                                          "aliases": ["Vanya Petrov", 3]}})
    assert [m.entry_id for m in ix.screen({"event_id": 1, "traveller": {
        "full_name": "VANYA PETROV", "date_of_birth": None}})] == ["7"]
    assert ix.screen({"event_id": "x"}) == []
    assert ix.screen({"event_id": "x", "traveller": "nonsense"}) == []


def test_mixed_scripts_long_names_and_two_letter_tokens() -> None:
    ix = make_index(entry("e1", "KIM", "JONG UN"), entry("e2", "LI", "NA"),
                    entry("e3", " ".join(["ABDUL"] * 40), "LONG NAME"))
    assert [m.entry_id for m in ix.screen(event("KIM", "JONG UN"))] == ["e1"]
    assert ix.screen(event("LI", "NA")) != []
    assert ix.screen(event("LU", "NA")) == []
    assert ix.screen(event("Kim Иван", "张 محمد")) == []
    assert ix.screen(event(" ".join(["ABDUL"] * 40), "LONG NAME"))


def test_queries_during_concurrent_changes() -> None:
    ix = make_index(*[entry(f"e{i}", f"NAME{chr(65 + i % 26)}X", "PERSON") for i in range(200)])
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                ix.screen(event("PETROV", "IVAN"))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    for i in range(300):
        ix.upsert(entry(f"x{i}", "PETROV", "IVAN"))
        ix.remove(f"x{i - 1}")
    stop.set()
    t.join()
    assert errors == []
    assert [m.entry_id for m in ix.screen(event("PETROV", "IVAN"))] == ["x299"]


def test_one_edit_short_token_matches_when_the_date_of_birth_confirms() -> None:
    ix = make_index(entry("e1", "TUDOR", "RADU"), entry("e2", "TUDOR", "RADU", "1990-01-01"))
    assert [m.entry_id for m in ix.screen(event("TUDOR", "RAU"))] == ["e1"]
    assert ix.screen(event("TUDOR", "RAU", None)) == []  # nothing confirms the short token


def test_birth_year_window_keeps_entries_without_a_date_of_birth() -> None:
    # Enough names share NGUYEN and VAN for their posting sets to be split by birth year.
    ix = make_index(*[entry(f"e{i}", "NGUYEN", f"VAN {chr(66 + i % 20)}ORA{chr(66 + i // 20)}",
                            f"{1940 + i % 60}-01-01") for i in range(300)],
                    entry("nodob", "NGUYEN", "VAN MINH", None),
                    entry("same", "NGUYEN", "VAN MINH", "1975-01-01"),
                    entry("other", "NGUYEN", "VAN MINH", "1990-01-01"))
    got = {m.entry_id for m in ix.screen(event("NGUYEN", "VAN MINH", "1975-01-01"), limit=None)}
    assert {"nodob", "same"} <= got
    assert "other" not in got


def test_common_surname_le_is_not_a_particle() -> None:
    ix = make_index(entry("e1", "LE", "HOANG TRI", None))
    assert [m.entry_id for m in ix.screen(event("LE", "HOANG TRI"))] == ["e1"]


def test_han_name_of_a_korean_is_also_read_the_korean_way() -> None:
    ix = make_index(entry("k", "", "", None, name_original="金正恩", nationalities=["PRK"]),
                    entry("c", "", "", None, name_original="金正恩", nationalities=["CHN"]))
    got = [m.entry_id for m in ix.screen(event("KIM", "JONG UN", None))]
    assert got == ["k"]
    assert {m.entry_id for m in ix.screen(event("JIN", "ZHENG EN", None))} == {"c", "k"}


def test_bulk_loads_can_follow_each_other() -> None:
    # The follower loads a large list in several bulk batches, then adds one by one.
    index = WatchlistIndex()
    first = [{"id": f"a{i}", "subject": {"surname": f"SURNAME{i}", "given_names": "ANNA"}}
             for i in range(50)]
    second = [{"id": f"b{i}", "subject": {"surname": f"SURNAME{i}", "given_names": "BORIS"}}
              for i in range(50)]
    assert index.add_many(first) == 50
    assert index.add_many(second) == 50
    index.upsert({"id": "c1", "subject": {"surname": "SURNAME7", "given_names": "CLARA"}})
    found = {m.entry_id for m in index.screen({"traveller": {"surname": "SURNAME7",
                                                             "given_names": "BORIS"}})}
    assert "b7" in found
    assert "a7" not in found


def test_typo_that_creates_a_digraph_still_matches() -> None:
    # PTAEL folds to PTAL (two edits from PATEL); the letters as typed are one edit away.
    ix = make_index(entry("e1", "PATEL", "RAJESH KUMAR"))
    [m] = ix.screen(event("PTAEL", "RAJESH KUMAR"))
    assert m.entry_id == "e1"
    assert ix.screen(event("MUELLER", "RAJESH KUMAR")) == []


def test_skeleton_compared_tokens_are_resolved() -> None:
    # Arabic-script names are compared on consonant skeletons, kept in a bucket of their own.
    ix = make_index(entry("e1", "", "", name_original="محمد عبدالله"))
    assert [m.entry_id for m in ix.screen(event("ABDULLAH", "MOHAMMED"))] == ["e1"]


def test_repeated_token_name_is_not_matched_by_one_token_of_a_longer_name() -> None:
    # LASZLO LASZLO is a two-token name: LASZLO DEAK shares one token and contradicts the
    # other, even with the same date of birth. The repeat is kept, not deduplicated away.
    ix = make_index(entry("e1", "LASZLO", "LASZLO"), entry("e2", "MAI", "HUU MAI"))
    assert ix.screen(event("DEAK", "LASZLO")) == []
    assert ix.screen(event("DANG", "MAI HUU")) == []
    # The same name, a typo in the repeat, or the repeat omitted (a mononym written in
    # both name fields on one side only) still match.
    assert [m.entry_id for m in ix.screen(event("LASZLO", "LASZLO"))] == ["e1"]
    assert [m.entry_id for m in ix.screen(event("LASLO", "LASZLO"))] == ["e1"]
    assert [m.entry_id for m in ix.screen(event("", "LASZLO"))] == ["e1"]
    assert [m.entry_id for m in ix.screen(event("MAI", "HUU MAI"))] == ["e2"]
    assert [m.entry_id for m in ix.screen(event("MAI", "HUU"))] == ["e2"]


def test_repeated_token_traveller_name_matches_a_mononym() -> None:
    ix = make_index(entry("e1", "", "HANNIBAL"))
    assert [m.entry_id for m in ix.screen(event("HANNIBAL", "HANNIBAL"))] == ["e1"]
