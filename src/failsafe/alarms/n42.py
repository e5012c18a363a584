"""ANSI/IEEE N42.42-2012 `RadInstrumentData` XML to the `failsafe.alarm/v1` shape (docs/alarms.md
has the mapping table).

Safety: the document is parsed by defusedxml with DTDs forbidden, so no external entity, no
entity expansion (billion laughs) and no network access can happen; the caller bounds the size
before parsing. Anything unreadable, in another namespace, or missing what an alarm needs is an
`InvalidAlarm` naming the element, never quoting the document.

N42 carries no crossing point, lane or country: they come from `Characteristic` elements named
`failsafe.point`, `failsafe.lane`, `failsafe.country`, `failsafe.source` (the standard's own
extension point) anywhere in the document. `n42DocUUID` is the alarm id.
"""

from __future__ import annotations

import re

# Types and ParseError only: parsing is defusedxml's.
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from failsafe.alarms.schemas import InvalidAlarm

NS = "http://physics.nist.gov/N42/2011/N42"
_N = f"{{{NS}}}"

_ALARM_CATEGORY = {"gamma": "gamma", "neutron": "neutron", "isotope": "isotope", "other": "other"}
_NUCLIDE_CATEGORY = {
    "norm": "norm",
    "naturally occurring radioactive material": "norm",
    "natural": "norm",
    "medical": "medical",
    "industrial": "industrial",
    "snm": "snm",
    "special nuclear material": "snm",
}
_INSTRUMENT_KIND = {
    "portal monitor": "portal",
    "spectroscopic portal monitor": "spectroscopic_portal",
    "radionuclide identifier": "handheld",
    "gamma handheld": "handheld",
    "neutron handheld": "handheld",
    "personal radiation detector": "handheld",
    "spectroscopic personal radiation detector": "handheld",
    "backpack or personal radiation scanner": "handheld",
}
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def _text(el: ET.Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    text = el.text.strip()
    return text or None


def _find(el: ET.Element, path: str) -> ET.Element | None:
    return el.find(path.replace("n:", _N))


def _findall(el: ET.Element, path: str) -> list[ET.Element]:
    return el.findall(path.replace("n:", _N))


def _float(el: ET.Element | None, what: str) -> float | None:
    text = _text(el)
    if text is None:
        return None
    try:
        return float(text.split()[0])
    except ValueError:
        raise InvalidAlarm(f"N42: {what} is not a number") from None


def _time(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidAlarm(f"N42: {what} is not a date-time") from None
    if value.tzinfo is None:
        raise InvalidAlarm(f"N42: {what} has no UTC offset")
    return value


def _seconds(text: str | None, what: str) -> float | None:
    if text is None:
        return None
    m = _DURATION.match(text)
    if m is None:
        raise InvalidAlarm(f"N42: {what} is not an xsd:duration")
    d, h, mi, s = m.groups()
    return int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def _parse(raw: bytes) -> ET.Element:
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InvalidAlarm(f"N42: forbidden XML construct ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise InvalidAlarm(f"N42: not well-formed XML (line {exc.position[0]})") from None
    if not isinstance(root, ET.Element):
        raise InvalidAlarm("N42: no root element")
    if root.tag != f"{_N}RadInstrumentData":
        local = root.tag.rsplit("}", 1)[-1][:40]
        if local == "RadInstrumentData":
            raise InvalidAlarm(f"N42: RadInstrumentData not in the N42.42-2012 namespace {NS}")
        raise InvalidAlarm("N42: the root element is not RadInstrumentData")
    return root


def _characteristics(root: ET.Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for ch in root.iter(f"{_N}Characteristic"):
        name = _text(_find(ch, "n:CharacteristicName"))
        value = _text(_find(ch, "n:CharacteristicValue"))
        if name and value and name.startswith("failsafe."):
            out[name.removeprefix("failsafe.")] = value
    return out


def _detector_kinds(root: ET.Element) -> dict[str, str]:
    """RadDetectorInformation id -> gamma | neutron."""
    out: dict[str, str] = {}
    for det in _findall(root, "n:RadDetectorInformation"):
        category = (_text(_find(det, "n:RadDetectorCategoryCode")) or "").lower()
        if det.get("id") and category in ("gamma", "neutron"):
            out[str(det.get("id"))] = category
    return out


def _rates(root: ET.Element, kinds: dict[str, str]) -> dict[str, dict[str, float]]:
    """Per detector kind: the highest foreground and the background gross count rate (cps), and
    the foreground occupancy window."""
    rates: dict[str, dict[str, float]] = {}
    for m in _findall(root, "n:RadMeasurement"):
        klass = (_text(_find(m, "n:MeasurementClassCode")) or "").lower()
        real = _seconds(_text(_find(m, "n:RealTimeDuration")), "RealTimeDuration")
        for gc in _findall(m, "n:GrossCounts"):
            kind = kinds.get(gc.get("radDetectorInformationReference") or "")
            if kind is None:
                continue
            live = _seconds(_text(_find(gc, "n:LiveTimeDuration")), "LiveTimeDuration") or real
            counts = _text(_find(gc, "n:CountData"))
            if not live or counts is None:
                continue
            try:
                total = sum(float(c) for c in counts.split())
            except ValueError:
                raise InvalidAlarm("N42: CountData is not a list of numbers") from None
            cps = total / live
            slot = rates.setdefault(kind, {})
            key = "background_cps" if klass == "background" else "max_cps"
            if key == "max_cps":
                slot[key] = max(slot.get(key, 0.0), cps)
                slot["live_s"] = live
            else:
                slot[key] = cps
    return rates


def _occupancy(root: ET.Element) -> dict[str, str] | None:
    start: datetime | None = None
    end: datetime | None = None
    for m in _findall(root, "n:RadMeasurement"):
        if (_text(_find(m, "n:OccupancyIndicator")) or "").lower() != "true":
            continue
        t0 = _time(_text(_find(m, "n:StartDateTime")), "StartDateTime")
        if t0 is None:
            raise InvalidAlarm("N42: an occupied RadMeasurement has no StartDateTime")
        dur = _seconds(_text(_find(m, "n:RealTimeDuration")), "RealTimeDuration") or 0.0
        t1 = t0 + timedelta(seconds=dur)
        start = t0 if start is None else min(start, t0)
        end = t1 if end is None else max(end, t1)
    if start is None or end is None:
        return None
    return {"start": start.isoformat(), "end": end.isoformat()}


def n42_to_alarm(raw: bytes) -> dict[str, Any]:
    """An N42.42-2012 document as a `failsafe.alarm/v1` dict (the caller validates it)."""
    root = _parse(raw)
    extra = _characteristics(root)
    alarms = _findall(root, "n:AnalysisResults/n:RadAlarm")
    if not alarms:
        raise InvalidAlarm("N42: no AnalysisResults/RadAlarm: not an alarm")
    categories: list[str] = []
    times: list[datetime] = []
    for alarm in alarms:
        code = (_text(_find(alarm, "n:RadAlarmCategoryCode")) or "").lower()
        if code not in _ALARM_CATEGORY:
            raise InvalidAlarm("N42: RadAlarmCategoryCode missing or unknown")
        if _ALARM_CATEGORY[code] not in categories:
            categories.append(_ALARM_CATEGORY[code])
        t = _time(_text(_find(alarm, "n:RadAlarmDateTime")), "RadAlarmDateTime")
        if t is not None:
            times.append(t)
    if not times:
        raise InvalidAlarm("N42: RadAlarm has no RadAlarmDateTime")
    info = _find(root, "n:RadInstrumentInformation")
    instrument: dict[str, Any] = {}
    if info is not None:
        klass = (_text(_find(info, "n:RadInstrumentClassCode")) or "").lower()
        instrument = {
            "id": _text(_find(info, "n:RadInstrumentIdentifier")),
            "kind": _INSTRUMENT_KIND.get(klass, "other") if klass else None,
            "model": _text(_find(info, "n:RadInstrumentModelName")),
        }
    rates = _rates(root, _detector_kinds(root))
    out: dict[str, Any] = {
        "schema": "failsafe.alarm/v1",
        "alarm_id": root.get("n42DocUUID") or extra.get("alarm_id"),
        "occurred_at": min(times).isoformat(),
        "source": extra.get("source"),
        "country": extra.get("country"),
        "point": extra.get("point"),
        "lane": extra.get("lane"),
        "instrument": {k: v for k, v in instrument.items() if v is not None} or None,
        "occupancy": _occupancy(root),
        "categories": categories,
    }
    for kind in ("gamma", "neutron"):
        r = rates.get(kind)
        if r and "max_cps" in r:
            counts: dict[str, float] = {"max_cps": round(r["max_cps"], 3)}
            bg = r.get("background_cps")
            if bg is not None:
                counts["background_cps"] = round(bg, 3)
                if bg > 0 and kind == "gamma":
                    # Poisson: the excess over the background in its own standard deviations.
                    sd = (bg / r["live_s"]) ** 0.5
                    counts["sigma"] = round((r["max_cps"] - bg) / sd, 2)
            out[kind] = counts
    dose = _find(root, "n:AnalysisResults/n:DoseRateAnalysisResults/n:AverageDoseRateValue")
    out["dose_rate_usv_h"] = _float(dose, "AverageDoseRateValue")
    nuclides = []
    for nuc in _findall(root, "n:AnalysisResults/n:NuclideAnalysisResults/n:Nuclide"):
        if (_text(_find(nuc, "n:NuclideIdentifiedIndicator")) or "true").lower() != "true":
            continue
        name = _text(_find(nuc, "n:NuclideName"))
        if name is None:
            raise InvalidAlarm("N42: a Nuclide has no NuclideName")
        category = (_text(_find(nuc, "n:NuclideCategoryDescription")) or "").lower()
        confidence = _float(_find(nuc, "n:NuclideIDConfidenceValue"), "NuclideIDConfidenceValue")
        nuclides.append(
            {
                "name": name,
                "category": _NUCLIDE_CATEGORY.get(category, "unknown"),
                # N42 states the confidence in percent (0-100).
                "confidence": None if confidence is None else round(confidence / 100.0, 4),
                "activity_kbq": _float(
                    _find(nuc, "n:NuclideActivityValue"), "NuclideActivityValue"
                ),
            }
        )
    out["nuclides"] = nuclides
    if out["alarm_id"] is None:
        raise InvalidAlarm("N42: no n42DocUUID (the alarm id)")
    for key in ("point", "country"):
        if out[key] is None:
            raise InvalidAlarm(f"N42: no Characteristic failsafe.{key}")
    return {k: v for k, v in out.items() if v is not None}
