"""Name search over the watchlist with the matcher's own normalisation (failsafe.matching), so a
name an analyst finds here folds the way screening folds it (MÜLLER = MUELLER = MULLER, any
script transliterated, honorifics dropped). If that normalisation changes, recompute
`watchlist_entry.search_text` (re-import, or a one-off script)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from failsafe.matching.normalize import name_tokens

MAX_QUERY_TOKENS = 8


def _names(subject: dict[str, Any]) -> Iterable[str]:
    for person in (subject, *subject.get("aliases", ())):
        for key in ("surname", "given_names", "full_name"):
            value = person.get(key)
            if value:
                yield value
    if subject.get("name_original"):
        yield subject["name_original"]


def search_text(subject: dict[str, Any]) -> str:
    """Every name token of the subject and aliases, space-delimited with spaces at both ends so
    that a token prefix is a `LIKE '% TOKEN%'`."""
    tokens = {tok for name in _names(subject) for tok in name_tokens(name)}
    return " " + " ".join(sorted(tokens)) + " " if tokens else ""


def query_tokens(query: str) -> list[str]:
    """The tokens of a search; each must prefix some token of the entry's names."""
    return list(dict.fromkeys(name_tokens(query)))[:MAX_QUERY_TOKENS]
