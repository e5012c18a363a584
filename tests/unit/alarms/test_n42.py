"""N42.42-2012 documents to the alarm contract, and the documents that must be refused: each
refusal names what is wrong, and none reads a file, expands an entity or grows without bound."""

from __future__ import annotations

import time

import pytest

from failsafe.alarms.schemas import InvalidAlarm, parse_alarm
from tests import alarm_docs as docs

LIMIT = 1024 * 1024


def test_portal_gamma_neutron_snm_maps_to_the_contract() -> None:
    alarm = parse_alarm(docs.portal_snm("doc-1"), LIMIT).to_json_dict()
    assert alarm["alarm_id"] == "doc-1"
    assert (alarm["country"], alarm["point"], alarm["lane"]) == ("DEU", "DEU-POL-A12", "3")
    assert alarm["categories"] == ["gamma", "neutron"]
    assert alarm["instrument"] == {
        "id": "RPM-0042",
        "kind": "spectroscopic_portal",
        "model": "SPM-2000",
    }
    assert alarm["occupancy"] == {
        "start": "2026-11-27T09:21:51Z",
        "end": "2026-11-27T09:22:04Z",
    }
    assert alarm["occurred_at"] == "2026-11-27T09:21:58Z"
    assert alarm["gamma"]["max_cps"] == pytest.approx(1830.0)
    assert alarm["gamma"]["background_cps"] == pytest.approx(1210.0)
    assert alarm["gamma"]["sigma"] > 5
    assert alarm["neutron"] == {"max_cps": 4.0, "background_cps": 0.8}
    assert alarm["nuclides"] == [{"name": "Pu-239", "category": "snm", "confidence": 0.7}]


def test_handheld_cs137_industrial() -> None:
    alarm = parse_alarm(docs.handheld_cs137("doc-2"), LIMIT).to_json_dict()
    assert alarm["instrument"]["kind"] == "handheld"
    assert "lane" not in alarm and "occupancy" not in alarm  # a handheld names no lane
    assert alarm["categories"] == ["isotope"]
    assert alarm["dose_rate_usv_h"] == pytest.approx(0.42)
    # The unidentified Co-60 candidate is not a result.
    assert alarm["nuclides"] == [
        {"name": "Cs-137", "category": "industrial", "confidence": 0.8, "activity_kbq": 370.0}
    ]
    assert alarm["gamma"] == {"max_cps": 500.0}  # 15000 counts in 30 s live time


def test_norm_k40() -> None:
    alarm = parse_alarm(docs.norm_k40("doc-3"), LIMIT).to_json_dict()
    assert alarm["nuclides"] == [{"name": "K-40", "category": "norm", "confidence": 0.95}]
    assert alarm["occupancy"]["end"] == "2026-11-27T09:22:55Z"  # PT1M4S
    assert alarm["instrument"]["kind"] == "portal"


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (docs.XXE, "forbidden XML construct"),
        (docs.BILLION_LAUGHS, "forbidden XML construct"),
        (docs.WRONG_NAMESPACE, "not in the N42.42-2012 namespace"),
        (docs.NOT_WELL_FORMED, "not well-formed"),
        (docs.NO_ALARM, "no AnalysisResults/RadAlarm"),
        (docs.NO_POINT, "no Characteristic failsafe.point"),
        (docs.BAD_TIME, "RadAlarmDateTime is not a date-time"),
        (b"<html><body/></html>", "root element is not RadInstrumentData"),
    ],
    ids=["xxe", "billion-laughs", "namespace", "malformed", "no-alarm", "no-point", "time", "html"],
)
def test_broken_and_hostile_documents_are_refused_with_a_reason(doc: bytes, reason: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidAlarm) as caught:
        parse_alarm(doc, LIMIT, xml=True)
    assert reason in caught.value.message
    assert "root:" not in caught.value.message  # nothing of /etc/passwd
    assert time.perf_counter() - started < 1.0  # no expansion happened


def test_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(InvalidAlarm, match=r"oversized: \d+ bytes > 4096"):
        parse_alarm(docs.oversized(4096), 4096)


def test_json_alarm_schema_errors_name_fields_not_values() -> None:
    bad = docs.alarm_json()
    bad["categories"] = ["plutonium"]
    bad["nuclides"] = [{"name": "SECRETNAME", "category": "snm", "confidence": 7}]
    with pytest.raises(InvalidAlarm) as caught:
        parse_alarm(__import__("orjson").dumps(bad), LIMIT)
    assert "categories.0" in caught.value.message
    assert "nuclides.0.confidence" in caught.value.message
    assert "SECRETNAME" not in caught.value.message
    occ = docs.alarm_json()
    occ["occupancy"] = {"start": occ["occupancy"]["end"], "end": occ["occupancy"]["start"]}
    with pytest.raises(InvalidAlarm, match="occupancy"):
        parse_alarm(__import__("orjson").dumps(occ), LIMIT)
