"""Retention on real PostgreSQL: `failsafe purge` removes closed alerts and sightings past their
periods, keeps open alerts however old and the sightings any kept alert refers to, audits the
purge, and its dry run counts exactly that and removes nothing; `serve` purges periodically only
when asked to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.actor import CLI_ACTOR
from failsafe.alerts.retention import RetentionTask, purge
from failsafe.db.base import utcnow
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import (
    Alert,
    AlertRecipient,
    AlertTransition,
    AuditLog,
    Sighting,
)
from failsafe.settings import DatabaseSettings, RetentionSettings, Settings
from tests.fixtures.app import in_process, run_cli
from tests.fixtures.factories import insert_alert, make_entry
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.integration

RETENTION = RetentionSettings(closed_alerts_days=30, sightings_days=90)


async def _alert(
    sessions: async_sessionmaker[AsyncSession],
    entry_id: str,
    status: str,
    *,
    changed_days_ago: int,
    seen_days_ago: int,
) -> int:
    now = utcnow()
    alert_id = await insert_alert(
        sessions, entry_id, status=status, occurred_at=now - timedelta(days=seen_days_ago)
    )
    async with sessions() as s:
        await s.execute(
            update(Alert)
            .where(Alert.id == alert_id)
            .values(updated_at=now - timedelta(days=changed_days_ago))
        )
        s.add(AlertTransition(alert_id=alert_id, from_status="new", to_status=status))
        await s.commit()
    return alert_id


async def _world(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Alerts (and their sightings) of every age and status that matters, and a bare sighting."""
    entry = await make_entry(sessions, owner="FRA")
    plan = {
        "closed old, seen old": ("closed", 40, 100),  # both go
        "closed recent, seen old": ("closed", 10, 100),  # both stay: the alert is kept
        "open ancient": ("new", 400, 400),  # both stay: open alerts never go
        "dismissed old, seen recent": ("false_positive", 40, 10),  # the alert goes
        "withdrawn old, seen old": ("withdrawn", 40, 100),  # both go
    }
    ids = {
        name: await _alert(sessions, entry["id"], status, changed_days_ago=c, seen_days_ago=s)
        for name, (status, c, s) in plan.items()
    }
    async with sessions() as s:
        bare = Sighting(
            event_id="bare-sighting",
            kind="border_crossing",
            occurred_at=utcnow() - timedelta(days=100),
            country="DEU",
            route_countries=[],
            event={},
            quality_flags=[],
        )
        s.add(bare)
        await s.commit()
        ids["bare sighting"] = bare.id
    return ids


async def _left(sessions: async_sessionmaker[AsyncSession]) -> tuple[set[int], int, int, int]:
    """Alert ids, and how many sightings, transitions and recipient rows remain."""
    async with sessions() as s:
        alerts = set(await s.scalars(select(Alert.id)))
        counts = [
            int(await s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (Sighting, AlertTransition, AlertRecipient)
        ]
    return alerts, counts[0], counts[1], counts[2]


async def _purges_audited(sessions: async_sessionmaker[AsyncSession]) -> list[AuditLog]:
    async with sessions() as s:
        return list(await s.scalars(select(AuditLog).where(AuditLog.action == "retention.purge")))


async def test_purge_removes_what_is_past_retention_and_the_dry_run_counts_it(
    fresh_pg_url: str,
) -> None:
    engine = create_engine(DatabaseSettings(url=fresh_pg_url))
    sessions = create_sessionmaker(engine)
    try:
        ids = await _world(sessions)
        before = await _left(sessions)
        assert before == (set(ids.values()) - {ids["bare sighting"]}, 6, 5, 5)

        code, out, err = await run_cli(
            "purge",
            "--dry-run",
            env={
                "FAILSAFE_DATABASE__URL": fresh_pg_url,
                "FAILSAFE_RETENTION__CLOSED_ALERTS_DAYS": "30",
                "FAILSAFE_RETENTION__SIGHTINGS_DAYS": "90",
            },
        )
        assert code == 0, err
        assert out.startswith("would remove 3 closed alerts (older than 30 days) and 3 sightings")
        async with sessions() as s:
            dry = await purge(s, RETENTION, dry_run=True)
        assert (dry.alerts, dry.sightings, dry.dry_run) == (3, 3, True)
        assert await _left(sessions) == before
        assert await _purges_audited(sessions) == []

        async with sessions() as s:
            done = await purge(s, RETENTION, actor=CLI_ACTOR)
        assert (done.alerts, done.sightings) == (dry.alerts, dry.sightings)
        kept = {ids["closed recent, seen old"], ids["open ancient"]}
        assert await _left(sessions) == (kept, 3, 2, 2)
        (row,) = await _purges_audited(sessions)
        assert (row.detail["alerts"], row.detail["sightings"]) == (3, 3)
        assert row.principal_id == "cli"

        async with sessions() as s:
            again = await purge(s, RETENTION)
        assert (again.alerts, again.sightings) == (0, 0)  # idempotent

        code, _, err = await run_cli("purge", env={"FAILSAFE_DATABASE__URL": fresh_pg_url})
        assert code == 2 and "nothing to purge" in err  # no retention set: refuses, not "0"
    finally:
        await engine.dispose()


async def test_serve_purges_periodically_only_when_asked(fresh_pg_url: str) -> None:
    database = DatabaseSettings(url=fresh_pg_url, auto_migrate=False)
    async with in_process(Settings(database=database)) as api:
        assert api.state.services.find(RetentionTask) is None  # off by default
        ids = await _world(api.sessions)
    periodic = RetentionSettings(closed_alerts_days=30, sightings_days=90, purge_interval=0.2)
    async with in_process(Settings(database=database, retention=periodic)) as api:
        task = api.state.services.get(RetentionTask)
        await eventually(lambda: task.runs >= 2, timeout=20, what="two periodic purges")
        alerts, sightings, _, _ = await _left(api.sessions)
        assert alerts == {ids["closed recent, seen old"], ids["open ancient"]}
        assert sightings == 3
        audited = await _purges_audited(api.sessions)
        assert len(audited) >= 2 and {r.principal_id for r in audited} == {"retention"}
