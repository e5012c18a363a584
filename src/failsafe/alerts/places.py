"""Where a sighting happened, written out and placed on the globe, for the dashboard's map of a
subject's movements (issue 14): airports from airportsdata ("Frankfurt am Main (FRA), Germany"),
crossing points from the settings' table (`FAILSAFE_DASHBOARD__CROSSING_POINTS`) or else the
event's optional `crossing.location`, countries by their ISO 3166 names.

Invariant: a stop that cannot be placed is still listed (its `lat`/`lon` are None): the list
beside the map shows every sighting, the map only what it can draw. Nothing here reads personal
data: only the event's crossing and flight.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel

from failsafe.settings import GeoPoint

StopRole = Literal["point", "origin", "transit", "destination"]


class Stop(BaseModel):
    """One place of a sighting: the crossing point, or one airport of a booking's route."""

    role: StopRole
    code: str | None
    label: str
    country: str | None
    lat: float | None
    lon: float | None


@lru_cache(maxsize=1)
def _airports() -> dict[str, tuple[str, str | None, float, float]]:
    """IATA code -> (city or name, alpha-3 country, lat, lon)."""
    import airportsdata
    from iso3166 import countries_by_alpha2

    out: dict[str, tuple[str, str | None, float, float]] = {}
    for iata, info in airportsdata.load("IATA").items():
        country = countries_by_alpha2.get(str(info.get("country", "")).upper())
        out[iata.upper()] = (
            str(info.get("city") or info.get("name") or iata),
            country.alpha3 if country is not None else None,
            float(info["lat"]),
            float(info["lon"]),
        )
    return out


def country_name(code: str | None) -> str | None:
    """The country's ISO 3166 name, or the code itself (ICAO codes such as XXA have none)."""
    if not code:
        return None
    from iso3166 import countries_by_alpha3

    country = countries_by_alpha3.get(code.upper())
    return country.name if country is not None else code


def airport_stop(code: str, role: StopRole) -> Stop:
    known = _airports().get(code.strip().upper())
    if known is None:
        return Stop(role=role, code=code, label=f"{code} (unknown airport)", country=None,
                    lat=None, lon=None)
    city, country, lat, lon = known
    label = f"{city} ({code.strip().upper()})"
    if country:
        label += f", {country_name(country)}"
    return Stop(role=role, code=code.strip().upper(), label=label, country=country, lat=lat,
                lon=lon)


def _location(value: Any) -> tuple[float, float] | None:
    if isinstance(value, Mapping):
        lat, lon = value.get("lat"), value.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            return float(lat), float(lon)
    return None


def stops(event: Mapping[str, Any], crossing_points: Mapping[str, GeoPoint]) -> list[Stop]:
    """The places of one event in travel order: a booking's origin, transits and destination;
    a crossing's point (placed by the settings' table first, then `crossing.location`)."""
    flight = event.get("flight") or {}
    if event.get("kind") == "travel_booking" or flight.get("origin") or flight.get("destination"):
        route: list[Stop] = []
        if flight.get("origin"):
            route.append(airport_stop(str(flight["origin"]), "origin"))
        route += [airport_stop(str(code), "transit") for code in flight.get("transit") or []]
        if flight.get("destination"):
            route.append(airport_stop(str(flight["destination"]), "destination"))
        if route:
            return route
    crossing = event.get("crossing") or {}
    point = crossing.get("point")
    country = event.get("country")
    known = crossing_points.get(str(point)) if point else None
    place = (known.lat, known.lon) if known is not None else _location(crossing.get("location"))
    label = ", ".join(str(p) for p in (point, country_name(country)) if p) or "unknown place"
    return [
        Stop(role="point", code=str(point) if point else None, label=label,
             country=str(country) if country else None,
             lat=place[0] if place else None, lon=place[1] if place else None)
    ]
