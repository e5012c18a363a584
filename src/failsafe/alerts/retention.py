"""Retention: closed alerts and sightings removed once past their retention period
(`FAILSAFE_RETENTION__CLOSED_ALERTS_DAYS`, `__SIGHTINGS_DAYS`; unset keeps them for ever).

- A closed alert is one nobody acts on any more (`closed`, `false_positive`, `withdrawn`); it
  goes when its last change (`updated_at`) is older than the period, with its transitions,
  recipients and acknowledgements. Open alerts never go, however old.
- A sighting goes when it happened (`occurred_at`) before its period and no alert that stays
  refers to it: the evidence behind an open (or still retained) alert is kept with it.
- One transaction per purge, with one audit row (`retention.purge`: counts and cut-offs, never
  personal data). A dry run counts exactly what the same purge would remove, and writes nothing.
- The watchlist, its versions and the audit log are not touched.

`failsafe purge` runs it once; `serve` runs it every `FAILSAFE_RETENTION__PURGE_INTERVAL`
seconds when that is set (off by default), as `RetentionTask`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, false, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

import failsafe.audit.service as audit
from failsafe.actor import CLI_ACTOR, Actor
from failsafe.db.base import utcnow
from failsafe.db.models import Alert, AlertAck, AlertRecipient, AlertTransition, Sighting
from failsafe.kit.service import BackgroundTask
from failsafe.settings import RetentionSettings

log = logging.getLogger(__name__)

CLOSED_STATUSES = ("closed", "false_positive", "withdrawn")


@dataclass
class PurgeResult:
    alerts: int
    sightings: int
    alerts_before: datetime | None  # the cut-offs; None: that kind is kept
    sightings_before: datetime | None
    dry_run: bool


def _alert_goes(before: datetime | None) -> ColumnElement[bool]:
    if before is None:
        return false()
    return and_(Alert.status.in_(CLOSED_STATUSES), Alert.updated_at < before)


def _sighting_goes(before: datetime, alert_goes: ColumnElement[bool]) -> ColumnElement[bool]:
    stays = exists().where(Alert.sighting_id == Sighting.id, not_(alert_goes))
    return and_(Sighting.occurred_at < before, not_(stays))


async def purge(
    session: AsyncSession,
    retention: RetentionSettings,
    *,
    dry_run: bool = False,
    actor: Actor = CLI_ACTOR,
    now: datetime | None = None,
) -> PurgeResult:
    """Remove (or, with `dry_run`, count) what is past retention, and commit."""
    now = now or utcnow()
    alerts_before = (
        now - timedelta(days=retention.closed_alerts_days)
        if retention.closed_alerts_days is not None
        else None
    )
    sightings_before = (
        now - timedelta(days=retention.sightings_days)
        if retention.sightings_days is not None
        else None
    )
    alert_goes = _alert_goes(alerts_before)
    going = select(Alert.id).where(alert_goes)
    if dry_run:
        alerts = sightings = 0
        if alerts_before is not None:
            count = select(func.count()).select_from(going.subquery())
            alerts = int(await session.scalar(count) or 0)
        if sightings_before is not None:
            # The same conditions as the deletes below, before any alert is deleted.
            count = (
                select(func.count())
                .select_from(Sighting)
                .where(_sighting_goes(sightings_before, alert_goes))
            )
            sightings = int(await session.scalar(count) or 0)
        await session.rollback()
        return PurgeResult(alerts, sightings, alerts_before, sightings_before, dry_run)
    # What is removed is what the deletes report (a writer may have changed an alert since the
    # count); the alerts go first, so "no alert refers to it" then means "no alert that stays".
    alerts = sightings = 0
    if alerts_before is not None:
        for table in (AlertTransition, AlertRecipient, AlertAck):
            await session.execute(delete(table).where(table.alert_id.in_(going)))
        alerts = _rowcount(await session.execute(delete(Alert).where(Alert.id.in_(going))))
    if sightings_before is not None:
        sightings = _rowcount(
            await session.execute(
                delete(Sighting).where(
                    Sighting.occurred_at < sightings_before,
                    not_(exists().where(Alert.sighting_id == Sighting.id)),
                )
            )
        )
    result = PurgeResult(alerts, sightings, alerts_before, sightings_before, dry_run)
    audit.record(
        session,
        actor,
        "retention.purge",
        "retention",
        None,
        {
            "alerts": alerts,
            "sightings": sightings,
            "alerts_before": alerts_before.isoformat() if alerts_before else None,
            "sightings_before": sightings_before.isoformat() if sightings_before else None,
        },
    )
    await session.commit()
    return result


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class RetentionTask:
    """`purge` every `retention.purge_interval` seconds inside `serve` (several replicas may
    each run it: a purge is idempotent, and a concurrent one only finds less to remove)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], retention: RetentionSettings
    ) -> None:
        self.sessionmaker = sessionmaker
        self.retention = retention
        self._task = BackgroundTask("failsafe-retention")
        self.runs = 0  # purges completed, for tests and curiosity

    name = "retention"
    ready = True  # a failed purge is logged and retried; it never makes the replica unready

    async def start(self) -> None:
        self._task.start(self._run)

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            try:
                async with self.sessionmaker() as session:
                    result = await purge(session, self.retention, actor=SERVE_ACTOR)
                self.runs += 1
                if result.alerts or result.sightings:
                    log.info(
                        "retention: removed %d closed alerts and %d sightings",
                        result.alerts,
                        result.sightings,
                    )
            except Exception:
                log.warning(
                    "retention purge failed; retried in %ss",
                    self.retention.purge_interval,
                    exc_info=True,
                )
            await asyncio.sleep(self.retention.purge_interval)


SERVE_ACTOR = Actor(id="retention", role="admin", bureau_code=None)
