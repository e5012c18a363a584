"""The embedded mode's database (SQLite, single writer): the same correlation, links and alert
updates, with no advisory locks."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from failsafe.alarms.correlation import record_alarm, record_crossings
from failsafe.db import migrate
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.settings import AlarmSettings, DatabaseSettings
from tests.alarm_docs import T0, alarm_json, crossing


async def test_correlation_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(DatabaseSettings(url=url))
    sessions = create_sessionmaker(engine)
    rules = AlarmSettings()
    try:
        first = crossing(lane="3", at=T0 + timedelta(seconds=1))
        await record_crossings(sessions, [first], set(), rules)
        made = await record_alarm(sessions, alarm_json(lane="3", categories=["neutron"]), rules)
        assert made.new_links == 1 and made.alerts[0]["severity"] == "critical"
        late = crossing(lane="2", at=T0 + timedelta(seconds=2))
        out = await record_crossings(sessions, [late, late], set(), rules)
        assert [a["id"] for a in out.alerts] == [made.alerts[0]["id"]]
        assert [c["relation"] for c in out.alerts[0]["crossings"]] == ["same_lane", "adjacent_lane"]
    finally:
        await engine.dispose()
