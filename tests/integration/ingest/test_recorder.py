"""The alert recorder on PostgreSQL: idempotence, commit-ordered ids, false-positive suppression,
no new alert for an entry cancelled after screening, and concurrent writers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.alerts.recorder import Hit, record_hits
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Alert, Sighting
from failsafe.settings import DatabaseSettings
from tests.fixtures.factories import entry_doc, event, put_entry

pytestmark = pytest.mark.integration

EXPLANATION = [{"feature": "name", "score": 0.97, "query": "x", "candidate": "x"}]


def hit(ev: dict, entry: dict, score: float = 0.95) -> Hit:
    return Hit(event=ev, entry=entry, score=score, method="name", explanation=EXPLANATION)


@pytest.fixture
async def sessions(fresh_pg_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(DatabaseSettings(url=fresh_pg_url))
    yield create_sessionmaker(engine)
    await engine.dispose()


async def all_alerts(sessions: async_sessionmaker[AsyncSession]) -> list[Alert]:
    async with sessions() as s:
        return list((await s.execute(select(Alert).order_by(Alert.id))).scalars())


async def test_replays_create_nothing_and_return_the_existing_alerts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a = await put_entry(sessions, entry_doc("PETROV", "IVAN"))
    b = await put_entry(sessions, entry_doc("PETROV", "IVAN", owner="DEU"))
    ev = event("PETROV", "IVAN")
    first, created = await record_hits(sessions, [hit(ev, a), hit(ev, b)])
    assert created == 2
    assert [x["id"] for x in first] == [1, 2]
    again, created = await record_hits(sessions, [hit(ev, a), hit(ev, b)])
    assert created == 0
    assert [x["id"] for x in again] == [1, 2]
    async with sessions() as s:
        assert len(list((await s.execute(select(Sighting))).scalars())) == 1
    assert first[0]["entry"]["subject_name"] == "IVAN PETROV"
    assert first[0]["event"]["event_id"] == ev["event_id"]


async def test_a_dismissed_traveller_does_not_alert_again_for_that_entry(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    entry = await put_entry(sessions, entry_doc("GARCIA", "MARIA"))
    doc = {"type": "P", "number": "X1234567", "issuing_state": "ESP"}
    (alert,), _ = await record_hits(sessions, [hit(event("GARCIA", "MARIA", document=doc), entry)])
    async with sessions() as s:
        await s.execute(
            update(Alert).where(Alert.id == alert["id"]).values(status="false_positive")
        )
        await s.commit()
    same_traveller = event("GARCIA", "MARIA", document=doc)
    other_traveller = event("GARCIA", "MARIA", document={**doc, "number": "Y7654321"})
    out, created = await record_hits(
        sessions, [hit(same_traveller, entry), hit(other_traveller, entry)]
    )
    assert created == 1
    assert [x["event"]["event_id"] for x in out] == [other_traveller["event_id"]]


async def test_an_entry_cancelled_after_screening_raises_no_alert(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    entry = await put_entry(sessions, entry_doc("NOVAK", "JAN"))
    await put_entry(sessions, entry, status="cancelled")
    out, created = await record_hits(sessions, [hit(event("NOVAK", "JAN"), entry)])
    assert (out, created) == ([], 0)


async def test_concurrent_writers_get_gap_free_ids_and_no_duplicates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    entry = await put_entry(sessions, entry_doc("SATO", "KENJI"))
    events = [event("SATO", "KENJI") for _ in range(30)]
    # Three writers record overlapping batches at once, as workers do around a rebalance.
    batches = [events[0:20], events[10:30], events[5:25]]
    await asyncio.gather(*(record_hits(sessions, [hit(e, entry) for e in b]) for b in batches))
    alerts = await all_alerts(sessions)
    assert sorted(a.event_id for a in alerts) == sorted(e["event_id"] for e in events)
    assert [a.id for a in alerts] == list(range(1, 31))
