"""N42.42-2012 documents written after the standard's annex examples (a spectroscopic portal
with a gamma and a neutron alarm and an SNM identification; a handheld identifier on an
industrial Cs-137 source; a NORM K-40 cargo), hostile and broken ones, and JSON alarm builders.
Times are in UTC; the failsafe.* characteristics carry point, lane and country."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import personal_data

NS = "http://physics.nist.gov/N42/2011/N42"

T0 = datetime(2026, 11, 27, 9, 21, 51, tzinfo=UTC)


def _characteristics(point: str, lane: str | None, country: str) -> str:
    lane_xml = (
        f"<Characteristic><CharacteristicName>failsafe.lane</CharacteristicName>"
        f"<CharacteristicValue>{lane}</CharacteristicValue>"
        f"<CharacteristicValueUnits>unit-less</CharacteristicValueUnits>"
        f"<CharacteristicValueDataClassCode>string</CharacteristicValueDataClassCode>"
        f"</Characteristic>"
        if lane
        else ""
    )
    return f"""
    <RadInstrumentCharacteristics>
      <Characteristic><CharacteristicName>failsafe.point</CharacteristicName>
        <CharacteristicValue>{point}</CharacteristicValue>
        <CharacteristicValueUnits>unit-less</CharacteristicValueUnits>
        <CharacteristicValueDataClassCode>string</CharacteristicValueDataClassCode></Characteristic>
      <Characteristic><CharacteristicName>failsafe.country</CharacteristicName>
        <CharacteristicValue>{country}</CharacteristicValue>
        <CharacteristicValueUnits>unit-less</CharacteristicValueUnits>
        <CharacteristicValueDataClassCode>string</CharacteristicValueDataClassCode></Characteristic>
      {lane_xml}
    </RadInstrumentCharacteristics>"""


def portal_snm(
    doc_id: str | None = None,
    *,
    point: str = "DEU-POL-A12",
    lane: str = "3",
    country: str = "DEU",
    start: datetime = T0,
    seconds: int = 13,
) -> bytes:
    """A spectroscopic portal: gamma and neutron alarms during an occupancy, Pu-239 (SNM)."""
    doc_id = doc_id or str(uuid.uuid4())
    alarm_at = (start + timedelta(seconds=7)).isoformat()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<RadInstrumentData xmlns="{NS}" n42DocUUID="{doc_id}">
  <RadInstrumentDataCreatorName>failsafe tests</RadInstrumentDataCreatorName>
  <RadInstrumentInformation id="RadInstrumentInformation-1">
    <RadInstrumentManufacturerName>Example</RadInstrumentManufacturerName>
    <RadInstrumentIdentifier>RPM-0042</RadInstrumentIdentifier>
    <RadInstrumentModelName>SPM-2000</RadInstrumentModelName>
    <RadInstrumentClassCode>Spectroscopic Portal Monitor</RadInstrumentClassCode>
    {_characteristics(point, lane, country)}
  </RadInstrumentInformation>
  <RadDetectorInformation id="Gamma-Total">
    <RadDetectorCategoryCode>Gamma</RadDetectorCategoryCode>
    <RadDetectorKindCode>PVT</RadDetectorKindCode>
  </RadDetectorInformation>
  <RadDetectorInformation id="Neutron-Total">
    <RadDetectorCategoryCode>Neutron</RadDetectorCategoryCode>
    <RadDetectorKindCode>He3</RadDetectorKindCode>
  </RadDetectorInformation>
  <RadMeasurement id="Background-1">
    <MeasurementClassCode>Background</MeasurementClassCode>
    <StartDateTime>{(start - timedelta(minutes=5)).isoformat()}</StartDateTime>
    <RealTimeDuration>PT60S</RealTimeDuration>
    <GrossCounts radDetectorInformationReference="Gamma-Total">
      <LiveTimeDuration>PT60S</LiveTimeDuration><CountData>72600</CountData></GrossCounts>
    <GrossCounts radDetectorInformationReference="Neutron-Total">
      <LiveTimeDuration>PT60S</LiveTimeDuration><CountData>48</CountData></GrossCounts>
  </RadMeasurement>
  <RadMeasurement id="Foreground-1">
    <MeasurementClassCode>Foreground</MeasurementClassCode>
    <StartDateTime>{start.isoformat()}</StartDateTime>
    <RealTimeDuration>PT{seconds}S</RealTimeDuration>
    <GrossCounts radDetectorInformationReference="Gamma-Total">
      <LiveTimeDuration>PT{seconds}S</LiveTimeDuration><CountData>{1830 * seconds}</CountData>
    </GrossCounts>
    <GrossCounts radDetectorInformationReference="Neutron-Total">
      <LiveTimeDuration>PT{seconds}S</LiveTimeDuration><CountData>{4 * seconds}</CountData>
    </GrossCounts>
    <OccupancyIndicator>true</OccupancyIndicator>
  </RadMeasurement>
  <AnalysisResults>
    <RadAlarm>
      <RadAlarmDateTime>{alarm_at}</RadAlarmDateTime>
      <RadAlarmCategoryCode>Gamma</RadAlarmCategoryCode>
    </RadAlarm>
    <RadAlarm>
      <RadAlarmDateTime>{alarm_at}</RadAlarmDateTime>
      <RadAlarmCategoryCode>Neutron</RadAlarmCategoryCode>
    </RadAlarm>
    <NuclideAnalysisResults>
      <Nuclide>
        <NuclideIdentifiedIndicator>true</NuclideIdentifiedIndicator>
        <NuclideName>Pu-239</NuclideName>
        <NuclideIDConfidenceValue>70</NuclideIDConfidenceValue>
        <NuclideCategoryDescription>SNM</NuclideCategoryDescription>
      </Nuclide>
    </NuclideAnalysisResults>
  </AnalysisResults>
</RadInstrumentData>
""".encode()


def handheld_cs137(doc_id: str | None = None, *, country: str = "DEU") -> bytes:
    """A radionuclide identifier at secondary inspection: industrial Cs-137, a dose rate."""
    doc_id = doc_id or str(uuid.uuid4())
    return f"""<?xml version="1.0"?>
<RadInstrumentData xmlns="{NS}" n42DocUUID="{doc_id}">
  <RadInstrumentInformation id="ri">
    <RadInstrumentManufacturerName>Example</RadInstrumentManufacturerName>
    <RadInstrumentIdentifier>RIID-17</RadInstrumentIdentifier>
    <RadInstrumentModelName>ID-100</RadInstrumentModelName>
    <RadInstrumentClassCode>Radionuclide Identifier</RadInstrumentClassCode>
    {_characteristics("DEU-POL-A12", None, country)}
  </RadInstrumentInformation>
  <RadDetectorInformation id="g"><RadDetectorCategoryCode>Gamma</RadDetectorCategoryCode>
  </RadDetectorInformation>
  <RadMeasurement id="m1">
    <MeasurementClassCode>Foreground</MeasurementClassCode>
    <StartDateTime>{T0.isoformat()}</StartDateTime>
    <RealTimeDuration>PT30.5S</RealTimeDuration>
    <GrossCounts radDetectorInformationReference="g">
      <LiveTimeDuration>PT30S</LiveTimeDuration><CountData>15000</CountData></GrossCounts>
  </RadMeasurement>
  <AnalysisResults>
    <RadAlarm><RadAlarmDateTime>{(T0 + timedelta(seconds=20)).isoformat()}</RadAlarmDateTime>
      <RadAlarmCategoryCode>Isotope</RadAlarmCategoryCode></RadAlarm>
    <NuclideAnalysisResults>
      <Nuclide><NuclideIdentifiedIndicator>true</NuclideIdentifiedIndicator>
        <NuclideName>Cs-137</NuclideName><NuclideIDConfidenceValue>80</NuclideIDConfidenceValue>
        <NuclideCategoryDescription>Industrial</NuclideCategoryDescription>
        <NuclideActivityValue>370</NuclideActivityValue></Nuclide>
      <Nuclide><NuclideIdentifiedIndicator>false</NuclideIdentifiedIndicator>
        <NuclideName>Co-60</NuclideName></Nuclide>
    </NuclideAnalysisResults>
    <DoseRateAnalysisResults><AverageDoseRateValue>0.42</AverageDoseRateValue>
    </DoseRateAnalysisResults>
  </AnalysisResults>
</RadInstrumentData>
""".encode()


def norm_k40(doc_id: str | None = None, *, lane: str = "5", start: datetime = T0) -> bytes:
    """A cargo portal: gamma alarm on a truck of fertiliser, K-40 (NORM) identified at 95 %."""
    doc_id = doc_id or str(uuid.uuid4())
    return f"""<RadInstrumentData xmlns="{NS}" n42DocUUID="{doc_id}">
  <RadInstrumentInformation id="ri">
    <RadInstrumentManufacturerName>Example</RadInstrumentManufacturerName>
    <RadInstrumentModelName>RPM-8</RadInstrumentModelName>
    <RadInstrumentClassCode>Portal Monitor</RadInstrumentClassCode>
    {_characteristics("DEU-POL-A12", lane, "DEU")}
  </RadInstrumentInformation>
  <RadDetectorInformation id="g"><RadDetectorCategoryCode>Gamma</RadDetectorCategoryCode>
  </RadDetectorInformation>
  <RadMeasurement id="m1"><MeasurementClassCode>Foreground</MeasurementClassCode>
    <StartDateTime>{start.isoformat()}</StartDateTime><RealTimeDuration>PT1M4S</RealTimeDuration>
    <GrossCounts radDetectorInformationReference="g"><CountData>96000</CountData></GrossCounts>
    <OccupancyIndicator>true</OccupancyIndicator></RadMeasurement>
  <AnalysisResults>
    <RadAlarm><RadAlarmDateTime>{(start + timedelta(seconds=30)).isoformat()}</RadAlarmDateTime>
      <RadAlarmCategoryCode>Gamma</RadAlarmCategoryCode></RadAlarm>
    <NuclideAnalysisResults><Nuclide>
      <NuclideIdentifiedIndicator>true</NuclideIdentifiedIndicator><NuclideName>K-40</NuclideName>
      <NuclideIDConfidenceValue>95</NuclideIDConfidenceValue>
      <NuclideCategoryDescription>NORM</NuclideCategoryDescription></Nuclide>
    </NuclideAnalysisResults>
  </AnalysisResults>
</RadInstrumentData>
""".encode()


XXE = f"""<?xml version="1.0"?>
<!DOCTYPE RadInstrumentData [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<RadInstrumentData xmlns="{NS}" n42DocUUID="x">
  <RadInstrumentInformation><RadInstrumentModelName>&xxe;</RadInstrumentModelName>
  </RadInstrumentInformation>
</RadInstrumentData>""".encode()

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + f']>\n<RadInstrumentData xmlns="{NS}">&lol9;</RadInstrumentData>'
).encode()

WRONG_NAMESPACE = portal_snm("wrong-ns").replace(NS.encode(), b"http://example.org/N42")
NOT_WELL_FORMED = portal_snm("broken")[:-60]
NO_ALARM = (
    portal_snm("no-alarm").replace(b"<RadAlarm>", b"<Other>").replace(b"</RadAlarm>", b"</Other>")
)
NO_POINT = portal_snm("no-point").replace(b"failsafe.point", b"something.else")
BAD_TIME = portal_snm("bad-time").replace(b"<RadAlarmDateTime>2026", b"<RadAlarmDateTime>yesterday")


def oversized(limit: int) -> bytes:
    doc = portal_snm("big")
    pad = b"<!--" + b"x" * (limit + 1) + b"-->"
    return doc.replace(b"<AnalysisResults>", pad + b"<AnalysisResults>", 1)


def alarm_json(
    *,
    alarm_id: str | None = None,
    point: str = "DEU-POL-A12",
    lane: str | None = "3",
    country: str = "DEU",
    start: datetime = T0,
    seconds: int = 13,
    categories: list[str] | None = None,
    nuclides: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema": "failsafe.alarm/v1",
        "alarm_id": alarm_id or f"al-{uuid.uuid4().hex}",
        "occurred_at": (start + timedelta(seconds=7)).isoformat(),
        "source": f"{country}-ZOLL-RPM",
        "country": country,
        "point": point,
        "instrument": {"id": "RPM-0042", "kind": "portal"},
        "occupancy": {
            "start": start.isoformat(),
            "end": (start + timedelta(seconds=seconds)).isoformat(),
        },
        "categories": categories or ["gamma"],
        "gamma": {"max_cps": 1830.0, "background_cps": 1210.0, "sigma": 7.1},
        "nuclides": nuclides if nuclides is not None else [],
    }
    if lane is not None:
        out["lane"] = lane
    return out


def crossing(
    *,
    event_id: str | None = None,
    point: str = "DEU-POL-A12",
    lane: str | None = "3",
    country: str = "DEU",
    at: datetime = T0,
    surname: str = "MUELLER",
    given_names: str = "HANS",
    document: str = "C01X00T47",
    plate: str = "B-XY 1234",
) -> dict[str, Any]:
    personal_data(surname, given_names, document)
    crossing_part: dict[str, Any] = {
        "point": point,
        "mode": "land",
        "direction": "entry",
        "vehicle": {"plate": plate},
    }
    if lane is not None:
        crossing_part["lane"] = lane
    return {
        "schema": "failsafe.event/v1",
        "event_id": event_id or f"ev-{uuid.uuid4().hex}",
        "kind": "border_crossing",
        "occurred_at": at.isoformat(),
        "source": f"{country}-BPOL",
        "country": country,
        "crossing": crossing_part,
        "traveller": {
            "surname": surname,
            "given_names": given_names,
            "date_of_birth": "1970-03-14",
        },
        "document": {"type": "P", "number": document, "issuing_state": country},
    }
