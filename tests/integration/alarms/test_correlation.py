"""Correlation on PostgreSQL: either side first, late, twice, on two "processes" (two engines,
two connection pools, concurrently); same and adjacent lanes; the window; hits, routing and the
distribution rules; the purge of unlinked crossings."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.alarms import correlation, rules
from failsafe.alarms.correlation import record_alarm, record_crossings
from failsafe.alerts.recorder import Hit, record_hits
from failsafe.db.base import utcnow
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Alarm, AlarmLink, Alert, AlertRecipient, LaneCrossing
from failsafe.settings import AlarmSettings, DatabaseSettings
from tests.alarm_docs import T0, alarm_json, crossing
from tests.fixtures.factories import entry_doc, put_entry

pytestmark = pytest.mark.integration

RULES = AlarmSettings()


@pytest.fixture
async def two(pg_url: str) -> AsyncIterator[tuple[Any, Any]]:
    """Two independent engines on the same database: two worker processes' pools."""
    engines = [create_engine(DatabaseSettings(url=pg_url, pool_size=5)) for _ in range(2)]
    yield tuple(create_sessionmaker(e) for e in engines)
    for e in engines:
        await e.dispose()


def point() -> str:
    # Each test its own crossing point: the tests share one database.
    return f"DEU-T-{uuid.uuid4().hex[:8]}"


async def links_of(sessions: async_sessionmaker[AsyncSession], alarm_id: str) -> dict[str, Any]:
    async with sessions() as s:
        rows = await s.execute(
            select(AlarmLink.event_id, AlarmLink.relation, AlarmLink.confidence)
            .join(Alarm, Alarm.id == AlarmLink.alarm_pk)
            .where(Alarm.alarm_id == alarm_id)
        )
        return {eid: (rel, conf) for eid, rel, conf in rows}


async def alarm_alerts(sessions: async_sessionmaker[AsyncSession], alarm_id: str) -> list[Alert]:
    async with sessions() as s:
        return list(
            (await s.scalars(select(Alert).where(Alert.event_id == f"alarm:{alarm_id}"))).all()
        )


async def test_alarm_first_then_crossings_same_adjacent_and_outside(two: Any) -> None:
    sessions, _ = two
    p = point()
    alarm = alarm_json(point=p, lane="3")
    first = await record_alarm(sessions, alarm, RULES)
    assert first.alert_created and first.alerts[0]["kind"] == "radiation_alarm"
    inside = crossing(point=p, lane="3", at=T0 + timedelta(seconds=5))
    margin = crossing(point=p, lane="3", at=T0 - timedelta(seconds=20))
    adjacent = crossing(point=p, lane="4", at=T0 + timedelta(seconds=5))
    far_lane = crossing(point=p, lane="6", at=T0 + timedelta(seconds=5))
    too_late = crossing(point=p, lane="3", at=T0 + timedelta(seconds=13 + 61))
    too_early = crossing(point=p, lane="3", at=T0 - timedelta(seconds=31))
    other_point = crossing(point=point(), lane="3", at=T0)
    out = await record_crossings(
        sessions,
        [inside, margin, adjacent, far_lane, too_late, too_early, other_point],
        set(),
        RULES,
    )
    assert await links_of(sessions, alarm["alarm_id"]) == {
        inside["event_id"]: ("same_lane", 1.0),
        margin["event_id"]: ("same_lane", RULES.margin_confidence),
        adjacent["event_id"]: ("adjacent_lane", 0.5),
    }
    # The alarm's alert is updated (same id, newer updated_at), not duplicated.
    assert [a["id"] for a in out.alerts] == [first.alerts[0]["id"]]
    updated = out.alerts[0]
    assert updated["updated_at"] > first.alerts[0]["updated_at"]
    assert {c["event_id"] for c in updated["crossings"]} == {
        inside["event_id"],
        margin["event_id"],
        adjacent["event_id"],
    }
    same = next(c for c in updated["crossings"] if c["event_id"] == inside["event_id"])
    assert same["vehicle"] == {"plate": "B-XY 1234"} and same["document"]["number"]
    assert len(await alarm_alerts(sessions, alarm["alarm_id"])) == 1


async def test_crossing_first_then_alarm_and_both_redelivered(two: Any) -> None:
    sessions, _ = two
    p = point()
    c = crossing(point=p, lane="2", at=T0 + timedelta(seconds=3))
    alarm = alarm_json(point=p, lane="2")
    assert (await record_crossings(sessions, [c], set(), RULES)).alerts == []
    made = await record_alarm(sessions, alarm, RULES)
    assert made.new_links == 1
    assert made.alerts[0]["crossings"][0]["event_id"] == c["event_id"]
    # Twice each: nothing new, the same alert returned for publication again.
    again = await record_alarm(sessions, alarm, RULES)
    assert not again.new_alarm and [a["id"] for a in again.alerts] == [made.alerts[0]["id"]]
    assert (await record_crossings(sessions, [c], set(), RULES)).new_links == 0
    assert list(await links_of(sessions, alarm["alarm_id"])) == [c["event_id"]]
    assert len(await alarm_alerts(sessions, alarm["alarm_id"])) == 1


async def test_late_sides_within_the_lateness_still_meet(two: Any) -> None:
    """Arrival order and time are independent of the measured times: an alarm that arrives nine
    minutes after its crossing was recorded (or the other way round) still links."""
    sessions, _ = two
    p = point()
    old = T0 - timedelta(minutes=9)
    c = crossing(point=p, lane="1", at=old + timedelta(seconds=2))
    await record_crossings(sessions, [c], set(), RULES)
    alarm = alarm_json(point=p, lane="1", start=old)
    assert (await record_alarm(sessions, alarm, RULES)).new_links == 1


async def test_two_processes_concurrently_link_each_pair_exactly_once(two: Any) -> None:
    """Per pair: the alarm on one engine and its crossing on the other at the same moment, and
    each redelivered on the other engine; 40 pairs at once. Every pair links once, every alarm
    has one alert."""
    a, b = two
    pairs = []
    p = point()
    for i in range(40):
        start = T0 + timedelta(minutes=5 * i)
        lane = str(1 + i % 3)
        pairs.append(
            (
                alarm_json(point=p, lane=lane, start=start),
                crossing(point=p, lane=lane, at=start + timedelta(seconds=4)),
            )
        )
    jobs = []
    for alarm, c in pairs:
        jobs += [
            record_alarm(a, alarm, RULES),
            record_crossings(b, [c], set(), RULES),
            record_alarm(b, alarm, RULES),
            record_crossings(a, [c], set(), RULES),
        ]
    await asyncio.gather(*jobs)
    for alarm, c in pairs:
        assert list(await links_of(a, alarm["alarm_id"])) == [c["event_id"]]
        alerts = await alarm_alerts(a, alarm["alarm_id"])
        assert len(alerts) == 1
        assert [x["event_id"] for x in alerts[0].payload["crossings"]] == [c["event_id"]]


async def _hit_crossing(
    sessions: async_sessionmaker[AsyncSession], entry: dict[str, Any], c: dict[str, Any]
) -> dict[str, Any]:
    alerts, _ = await record_hits(
        sessions,
        [Hit(event=c, entry=entry, score=0.97, method="document", explanation=[])],
    )
    return alerts[0]


async def test_a_hit_in_the_alarmed_lane_is_critical_routed_and_its_alert_updated(two: Any) -> None:
    sessions, _ = two
    p = point()
    entry = await put_entry(sessions, entry_doc("PETROV", "IVAN", owner="FRA"))
    alarm = alarm_json(point=p, lane="3", categories=["gamma"])  # gamma only: medium alone
    made = await record_alarm(sessions, alarm, RULES)
    assert made.alerts[0]["severity"] == "medium" and made.alerts[0]["recipients"] == ["DEU"]
    c = crossing(
        point=p, lane="3", at=T0 + timedelta(seconds=4), surname="PETROV", given_names="IVAN"
    )
    hit_alert = await _hit_crossing(sessions, entry, c)
    out = await record_crossings(sessions, [c], {c["event_id"]}, RULES)
    by_kind = {a["kind"]: a for a in out.alerts}
    radiation = by_kind["radiation_alarm"]
    assert radiation["id"] == made.alerts[0]["id"]
    # The entry's case is nuclear smuggling: critical; the owner bureau now receives it too.
    assert radiation["severity"] == "critical"
    assert radiation["recipients"] == ["DEU", "FRA"]
    assert [h["alert_id"] for h in radiation["hits"]] == [hit_alert["id"]]
    assert radiation["hits"][0]["entry"]["id"] == entry["id"]
    updated_hit = by_kind["watchlist_hit"]
    assert updated_hit["id"] == hit_alert["id"]
    assert updated_hit["severity"] == "critical"
    assert updated_hit["radiation"][0]["alarm_id"] == alarm["alarm_id"]
    assert updated_hit["radiation"][0]["alert_id"] == radiation["id"]
    async with sessions() as s:
        recipients = set(
            await s.scalars(
                select(AlertRecipient.bureau_code).where(AlertRecipient.alert_id == radiation["id"])
            )
        )
        assert recipients == {"DEU", "FRA"}
        # No second alert of either kind.
        n = await s.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.event_id.in_([c["event_id"], f"alarm:{alarm['alarm_id']}"]))
        )
        assert n == 2


async def test_restricted_hit_does_not_leak_into_the_alarm_alert(two: Any) -> None:
    """An entry restricted to its owner (FRA): the crossing point's bureau (DEU) gets the alarm
    alert without the hit, its entry or a raised severity; FRA's own hit alert carries the link."""
    sessions, _ = two
    p = point()
    entry = await put_entry(
        sessions,
        entry_doc(
            "KOVAC",
            "LUKA",
            owner="FRA",
            distribution={"mode": "restricted", "allow": [], "deny": []},
        ),
    )
    c = crossing(
        point=p, lane="3", at=T0 + timedelta(seconds=4), surname="KOVAC", given_names="LUKA"
    )
    hit_alert = await _hit_crossing(sessions, entry, c)
    assert hit_alert["recipients"] == ["FRA"]
    await record_crossings(sessions, [c], {c["event_id"]}, RULES)
    made = await record_alarm(sessions, alarm_json(point=p, lane="3"), RULES)
    radiation = next(a for a in made.alerts if a["kind"] == "radiation_alarm")
    assert radiation["recipients"] == ["DEU"]
    assert radiation["hits"] == [] and radiation["severity"] == "medium"
    text = orjson.dumps(radiation).decode()
    assert entry["id"] not in text and entry["notice"]["reference"] not in text
    updated_hit = next(a for a in made.alerts if a["kind"] == "watchlist_hit")
    assert (
        updated_hit["recipients"] == ["FRA"]
        and updated_hit["radiation"][0]["alert_id"] == radiation["id"]
    )


async def test_unlinked_crossings_are_purged_after_the_lateness(two: Any) -> None:
    sessions, _ = two
    p = point()
    entry = await put_entry(sessions, entry_doc("NOWAK", "ANNA", owner="POL"))
    lone = crossing(point=p, lane="1", at=T0 + timedelta(hours=5))
    hit_c = crossing(
        point=p, lane="1", at=T0 + timedelta(hours=6), surname="NOWAK", given_names="ANNA"
    )
    linked = crossing(point=p, lane="2", at=T0 + timedelta(seconds=4))
    await _hit_crossing(sessions, entry, hit_c)
    await record_crossings(sessions, [lone, hit_c, linked], {hit_c["event_id"]}, RULES)
    await record_alarm(sessions, alarm_json(point=p, lane="2"), RULES)
    ids = [lone["event_id"], hit_c["event_id"], linked["event_id"]]

    async def kept() -> set[str]:
        async with sessions() as s:
            return set(
                await s.scalars(select(LaneCrossing.event_id).where(LaneCrossing.event_id.in_(ids)))
            )

    async with sessions() as s:
        # Within the lateness window nothing goes.
        await correlation.purge_expired(s, utcnow() + timedelta(seconds=RULES.lateness_s - 30))
    assert await kept() == set(ids)
    async with sessions() as s:
        await correlation.purge_expired(s, utcnow() + timedelta(seconds=RULES.lateness_s + 1))
    assert await kept() == {hit_c["event_id"], linked["event_id"]}


def test_severity_from_the_evidence() -> None:
    sev = rules.alarm_severity
    s = RULES
    assert sev({"categories": ["neutron"]}, [], s) == "critical"
    assert sev({"categories": ["gamma"], "nuclides": [{"category": "snm"}]}, [], s) == "critical"
    assert sev({"categories": ["gamma"]}, ["radiological"], s) == "critical"
    assert sev({"categories": ["gamma"]}, ["fraud"], s) == "high"
    medical = {"categories": ["isotope"], "nuclides": [{"category": "medical", "confidence": 0.9}]}
    assert sev(medical, [], s) == "low"
    assert sev(medical, ["fraud"], s) == "high"
    unsure = {"categories": ["gamma"], "nuclides": [{"category": "norm", "confidence": 0.5}]}
    assert sev(unsure, [], s) == "medium"
    industrial = {
        "categories": ["gamma"],
        "nuclides": [{"category": "industrial", "confidence": 0.9}],
    }
    assert sev(industrial, [], s) == "high"
    assert sev({"categories": ["gamma"]}, [], s) == "medium"
