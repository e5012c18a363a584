"""Radiation alarms as a service: intake of raw messages (Kafka or HTTP) and the crossing observer
the event pipeline calls (the alarm queries and adjudication behind the API are
failsafe.alarms.review).

Invariants:
- `AlarmIntake.process` judges each message on its own: an invalid one becomes a `Rejection`
  (dead-lettered by the Kafka worker, a 4xx on the API) and its neighbours go on; an outage
  (database, broker) propagates, so the source retries the whole batch (recording is idempotent).
- Alerts are published only after the transaction that made them has committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.alarms import correlation, metrics
from failsafe.alarms.schemas import InvalidAlarm, parse_alarm
from failsafe.contract import AlertView
from failsafe.ingest.pipeline import RawRecord, Rejection, is_data_error, log_failure
from failsafe.kit.bus import AlertBus
from failsafe.settings import AlarmSettings

log = logging.getLogger(__name__)


@dataclass
class IntakeOutcome:
    accepted: list[str] = field(default_factory=list)  # alarm ids
    rejected: list[Rejection] = field(default_factory=list)
    alerts: list[AlertView] = field(default_factory=list)


# eq=False: a service is compared and hashed by identity, as before it was a dataclass.
@dataclass(eq=False)
class AlarmIntake:
    """Validate, record, correlate and publish alarms (the Kafka worker and POST /v1/alarms)."""

    sessions: async_sessionmaker[AsyncSession]
    bus: AlertBus
    settings: AlarmSettings

    # A failsafe.kit.service.Service of `serve`: it holds nothing to start or stop, and is ready
    # whenever the replica is (PostgreSQL and the bus are reported by their own services).
    name = "alarms"
    ready = True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def process(
        self, records: Sequence[RawRecord], *, xml: bool | None = None
    ) -> IntakeOutcome:
        """Validate every record, then record up to `concurrency` alarms at once (alarms at
        different points do not wait for each other; the point lock orders those at one point),
        publishing each alarm's alerts as soon as they are committed."""
        outcome = IntakeOutcome()
        valid: list[tuple[int, RawRecord, dict[str, Any]]] = []
        for i, record in enumerate(records):
            try:
                if record.value is None:
                    raise InvalidAlarm("empty message (tombstone)")
                alarm = parse_alarm(record.value, self.settings.max_alarm_bytes, xml=xml)
            except InvalidAlarm as exc:
                outcome.rejected.append(Rejection(i, exc.message, record))
                metrics.ALARMS_INVALID.labels(exc.message.split(":", 1)[0]).inc()
                continue
            valid.append((i, record, alarm.to_json_dict()))
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def one(i: int, record: RawRecord, doc: dict[str, Any]) -> None:
            async with gate:
                received = time.perf_counter()
                try:
                    recorded = await correlation.record_alarm(self.sessions, doc, self.settings)
                except Exception as exc:
                    if not is_data_error(exc):
                        raise  # an outage: the source retries the batch
                    log_failure("recording an alarm", exc, then="alarm dead-lettered")
                    outcome.rejected.append(
                        Rejection(i, f"storage error: {type(exc).__name__}", record)
                    )
                    return
                await self.bus.publish(recorded.alerts)
                if recorded.new_alarm:
                    metrics.observe_alarm(doc, recorded.new_links, time.perf_counter() - received)
                outcome.accepted.append(str(doc["alarm_id"]))
                outcome.alerts.extend(recorded.alerts)

        tasks = [asyncio.ensure_future(one(i, r, d)) for i, r, d in valid]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # An outage (or a stop): no sibling keeps writing behind the retried batch.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        outcome.rejected.sort(key=lambda r: r.index)
        return outcome


def lane_observer(
    settings: AlarmSettings,
) -> Callable[[async_sessionmaker[AsyncSession], AlertBus], CrossingObserver]:
    """What a `failsafe ingest` worker is given (failsafe.ingest.worker.LanesFactory): it makes
    its sessions and bus when it runs, and the crossings that name a lane meet radiation alarms
    through them."""
    return lambda sessions, bus: CrossingObserver(sessions, bus, settings)


@dataclass(eq=False)
class CrossingObserver:
    """What the event pipeline calls after each batch: lane crossings recorded and correlated,
    alerts published; expired unlinked crossings purged every `purge_interval_s`."""

    sessions: async_sessionmaker[AsyncSession]
    bus: AlertBus
    settings: AlarmSettings
    _last_purge: float = field(default=0.0, init=False)

    async def observe(self, events: Sequence[dict[str, Any]], hit_event_ids: set[str]) -> None:
        started = time.perf_counter()
        recorded = await correlation.record_crossings(
            self.sessions, events, hit_event_ids, self.settings
        )
        if recorded.alerts:
            await self.bus.publish(recorded.alerts)
        if recorded.new_links:
            metrics.LINKS.labels("crossing").inc(recorded.new_links)
            metrics.CORRELATION_SECONDS.labels("crossing").observe(time.perf_counter() - started)
        if time.monotonic() - self._last_purge >= self.settings.purge_interval_s:
            self._last_purge = time.monotonic()
            async with self.sessions() as session:
                purged = await correlation.purge_expired(session)
            if purged:
                metrics.PURGED.inc(purged)
