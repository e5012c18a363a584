"""The screening service inside `failsafe serve`: the live matcher, and the pipeline behind
POST /v1/events in the embedded mode (in Kafka mode, events go to the topic instead).

One instance per serve process, in the app's ordered services (`ScreeningDep` in routers).
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.ingest.follower import WatchlistFollower
from failsafe.ingest.pipeline import LaneObserver, Pipeline
from failsafe.ingest.screener import new_screener
from failsafe.kit.bus import AlertBus
from failsafe.kit.kafka import LazyProducer, client_options
from failsafe.settings import Settings

log = logging.getLogger(__name__)


class ScreeningService:
    name = "screening"

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        bus: AlertBus,
        lanes: LaneObserver | None = None,
    ) -> None:
        """`lanes` sees the crossings that name a lane (radiation alarms, failsafe.alarms; given
        by the application, which sits above both domains)."""
        self.settings = settings
        self.follower = WatchlistFollower(sessions, new_screener())
        self.pipeline = Pipeline(
            sessions,
            self.follower,
            bus,
            threshold=settings.matching.threshold,
            max_event_bytes=settings.kafka.max_event_bytes,
            lanes=lanes,
        )
        self.producer: LazyProducer | None = None

    @property
    def ready(self) -> bool:
        return self.follower.ready and (self.producer is None or self.producer.ready)

    async def start(self) -> None:
        try:
            await self.follower.load()
            log.info(
                "matcher loaded: %d active entries at revision %d",
                len(self.follower.entries),
                self.follower.revision,
            )
        except Exception as exc:  # noqa: BLE001  (the database may be away: the follower retries)
            log.warning(
                "watchlist not loaded yet (%s); following in the background", type(exc).__name__
            )
        await self.follower.start()
        kafka = self.settings.kafka
        if kafka.bootstrap_servers:
            self.producer = LazyProducer(
                "events producer",
                **client_options(kafka),
                client_id=f"{kafka.client_id}-events",
                acks="all",
                enable_idempotence=True,
            )
            await self.producer.start()

    async def stop(self) -> None:
        await self.follower.stop()
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None
