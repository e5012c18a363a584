"""Who receives an alert, and how severe it is (docs/contracts.md "Alert": routing,
never broadcast).

Severity: see `severity` (the notice, the requested action, the score and the date-of-birth
agreement of the match's explanation).

Recipients: the entry's owner bureau, the bureau of the country where the event happened, and for
exits and bookings the destination and transit countries (airports mapped to countries with
airportsdata). Then the entry's distribution rules remove anyone not entitled: `deny` always,
and for `restricted` entries everyone outside `allow` and the owner. The owner always receives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from failsafe.contract import SEVERITIES, Severity

_ACTION_SEVERITY = {
    "locate_and_detain": 3,
    "specific_check": 2,
    "discreet_check": 2,
    "inform_only": 1,
}
# Notices about people sought or posing a threat weigh more than information-only notices.
_NOTICE_BUMP = {"red": 1, "orange": 1, "un_special": 1}


@lru_cache(maxsize=1)
def _airports() -> dict[str, str]:
    """IATA airport code -> alpha-3 country code."""
    import airportsdata
    from iso3166 import countries_by_alpha2

    out: dict[str, str] = {}
    for iata, info in airportsdata.load("IATA").items():
        country = countries_by_alpha2.get(str(info.get("country", "")).upper())
        if country is not None:
            out[iata.upper()] = country.alpha3
    return out


def airport_country(iata: str | None) -> str | None:
    if not iata:
        return None
    return _airports().get(iata.strip().upper())


def route_countries(event: Mapping[str, Any]) -> list[str]:
    """The countries of the traveller's route in order: origin, transits, destination."""
    flight = event.get("flight") or {}
    airports = [flight.get("origin"), *(flight.get("transit") or []), flight.get("destination")]
    out: list[str] = []
    for code in airports:
        country = airport_country(code)
        if country and (not out or out[-1] != country):
            out.append(country)
    return out


def onward_countries(event: Mapping[str, Any]) -> list[str]:
    """Destination and transit countries, for exits and bookings (where the traveller is going)."""
    if event.get("kind") == "travel_booking":
        flight = event.get("flight") or {}
        codes = [*(flight.get("transit") or []), flight.get("destination")]
        return [c for c in (airport_country(code) for code in codes) if c]
    crossing = event.get("crossing") or {}
    if crossing.get("direction") == "exit":
        # A land or sea exit names no destination; an air exit may carry a flight.
        flight = event.get("flight") or {}
        codes = [*(flight.get("transit") or []), flight.get("destination")]
        return [c for c in (airport_country(code) for code in codes) if c]
    return []


def recipients(entry: Mapping[str, Any], event: Mapping[str, Any]) -> list[str]:
    """The bureaus entitled to an alert on `entry` raised by `event`, sorted."""
    owner = str(entry["owner_bureau"])
    wanted: set[str] = {owner}
    if event.get("country"):
        wanted.add(str(event["country"]))
    wanted.update(onward_countries(event))
    return sorted(apply_distribution(entry, wanted))


def apply_distribution(entry: Mapping[str, Any], bureaus: Iterable[str]) -> set[str]:
    owner = str(entry["owner_bureau"])
    dist = entry.get("distribution") or {}
    deny = set(dist.get("deny") or [])
    allowed = {b for b in bureaus if b not in deny}
    if dist.get("mode") == "restricted":
        allowed &= set(dist.get("allow") or [])
    allowed.add(owner)
    return allowed


# How well the traveller's date of birth agrees with the entry's, as the matcher explains it
# (the `agreement` of the explanation's `date_of_birth` item), best first.
DOB_AGREEMENTS = ("exact", "close", "unknown", "far")


def dob_agreement(explanation: Iterable[Mapping[str, Any]]) -> str | None:
    """The date-of-birth agreement a match's explanation states, or None when it states none.
    With several `date_of_birth` items (several dates of birth on the entry) the best one counts,
    as it does for the score."""
    found = [
        item["agreement"]
        for item in explanation
        if isinstance(item, Mapping)
        and item.get("feature") == "date_of_birth"
        and item.get("agreement") in DOB_AGREEMENTS
    ]
    return min(found, key=DOB_AGREEMENTS.index) if found else None


def severity(
    notice_type: str | None,
    requested_action: str | None,
    score: float,
    dob: str | None = None,
) -> Severity:
    """How urgent an alert is: the requested action, raised for notices about people sought or
    dangerous, one step lower for weaker evidence; then one step lower again when the dates of
    birth clearly disagree (`dob` is the explanation's agreement, see `dob_agreement`).

    A far date lowers the severity after the clamp, so it shows on every alert (a red notice to
    locate and detain with a clearly different date of birth reads `high`, not `critical`): a
    strong name with such a date is still an alert, but likely a namesake or a data error, and
    the bureau should see that before acting. A `close` date (one part off by one, a placeholder
    `-01-01`, a year-only date against a full one: how real records differ) does not lower it:
    it is the common case of the same person, and what it costs in certainty is already in the
    score, which lowers the severity below 0.85. `unknown` (no date on one side) neither."""
    level = _ACTION_SEVERITY.get(requested_action or "", 1)
    level += _NOTICE_BUMP.get(notice_type or "", 0)
    if score < 0.85:
        level -= 1  # weaker evidence: still an alert, one step less urgent
    level = max(0, min(level, len(SEVERITIES) - 1))
    if dob == "far":
        level = max(0, level - 1)
    return SEVERITIES[level]
