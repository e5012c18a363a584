"""Alert routing (owner, event country, onward countries, distribution) and severity."""

from __future__ import annotations

from typing import Any

from failsafe.alerts import routing
from failsafe.alerts.recorder import traveller_key

FLIGHT = {"origin": "CDG", "destination": "NRT", "transit": ["DXB"]}


def _entry(**dist: Any) -> dict[str, Any]:
    return {"owner_bureau": "FRA", "distribution": {"mode": "all", "allow": [], "deny": [], **dist}}


def test_entry_crossing_goes_to_owner_and_event_country_only() -> None:
    ev = {"kind": "border_crossing", "country": "DEU", "crossing": {"direction": "entry"}}
    assert routing.recipients(_entry(), ev) == ["DEU", "FRA"]


def test_bookings_add_destination_and_transit_countries() -> None:
    ev = {"kind": "travel_booking", "country": "FRA", "flight": FLIGHT}
    assert routing.recipients(_entry(), ev) == ["ARE", "FRA", "JPN"]
    assert routing.route_countries(ev) == ["FRA", "ARE", "JPN"]


def test_exit_with_flight_adds_the_destination() -> None:
    ev = {"kind": "border_crossing", "country": "DEU", "crossing": {"direction": "exit"},
          "flight": {"destination": "JFK"}}
    assert routing.recipients(_entry(), ev) == ["DEU", "FRA", "USA"]


def test_deny_removes_and_restricted_keeps_only_allow_and_owner() -> None:
    ev = {"kind": "travel_booking", "country": "DEU", "flight": FLIGHT}
    assert routing.recipients(_entry(deny=["JPN"]), ev) == ["ARE", "DEU", "FRA"]
    assert routing.recipients(_entry(mode="restricted", allow=["JPN"]), ev) == ["FRA", "JPN"]
    # The owner always receives, even if it lists itself in deny by mistake.
    assert "FRA" in routing.recipients(_entry(deny=["FRA"]), ev)


def test_unknown_airports_are_ignored() -> None:
    ev = {"kind": "travel_booking", "country": "DEU",
          "flight": {"origin": "ZZZ", "destination": "Q1"}}
    assert routing.recipients(_entry(), ev) == ["DEU", "FRA"]


def test_severity_grows_with_action_and_notice_and_falls_with_weak_scores() -> None:
    assert routing.severity("red", "locate_and_detain", 0.99) == "critical"
    assert routing.severity("green", "discreet_check", 0.95) == "high"
    assert routing.severity("green", "discreet_check", 0.75) == "medium"
    assert routing.severity("blue", "inform_only", 0.7) == "low"


def test_traveller_key_prefers_the_document_and_ignores_formatting() -> None:
    a = {"document": {"number": "L898-902 C3", "issuing_state": "UTO"},
         "traveller": {"surname": "X"}}
    b = {"document": {"number": "l898902c3", "issuing_state": "uto"},
         "traveller": {"surname": "Y"}}
    assert traveller_key(a) == traveller_key(b)
    c = {"traveller": {"surname": "Petrov", "given_names": "Ivan", "date_of_birth": "1970"}}
    d = {"traveller": {"full_name": "IVAN PETROV", "date_of_birth": "1970"}}
    assert traveller_key(c) == traveller_key(d)
    assert traveller_key(c) != traveller_key({**d, "traveller": {"full_name": "IVAN PETROV"}})
