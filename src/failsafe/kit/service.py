"""The long-running parts of a process, started, stopped and reported ready the same way.

A `Service` (Prefect's `services/base.py` shape) is anything with `start()`, `stop()` and a `ready`
flag. `Services` keeps them in start order; invariants:
- `start_all` starts them in order; a service may rely on those before it being started;
- `stop_all` stops them in reverse order, each once, and every one even when another's stop fails
  (a failure is logged, never raised: shutdown must finish);
- `readiness()` is what /readyz reports: one check per service, by its `name`.

`BackgroundTask` is the one asyncio task a service may own (a poll loop, a probe): started once,
cancelled and awaited on stop. `PeriodicProbe` is a service that checks a dependency on a timer
and is ready while the last check passed (the Kafka and PostgreSQL probes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Protocol, TypeVar

from failsafe.kit.retry import Backoff

log = logging.getLogger(__name__)

S = TypeVar("S")


class Service(Protocol):
    @property
    def name(self) -> str:
        """The key /readyz reports this service's readiness under."""

    @property
    def ready(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Services:
    """The services of one process, in start order."""

    def __init__(self) -> None:
        self._items: list[Service] = []

    def __iter__(self) -> Iterator[Service]:
        return iter(self._items)

    def find(self, kind: type[S]) -> S | None:
        """The service of class `kind`, when this process runs one (typed: no lookup by name)."""
        for service in self._items:
            if isinstance(service, kind):
                return service
        return None

    def get(self, kind: type[S]) -> S:
        """The service of class `kind`; LookupError when this process does not run one."""
        found = self.find(kind)
        if found is None:
            raise LookupError(f"no {kind.__name__} in this process")
        return found

    async def start(self, service: Service) -> None:
        """Start `service` and append it: it is stopped before every service started earlier."""
        self._items.append(service)
        await service.start()

    async def stop_all(self) -> None:
        while self._items:
            service = self._items.pop()
            try:
                await service.stop()
            except Exception:
                log.exception("stopping %s failed", service.name)

    def readiness(self) -> dict[str, bool]:
        return {service.name: service.ready for service in self._items}


class BackgroundTask:
    """One named asyncio task owned by a service."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[Any] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, run: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        if self._task is None:
            self._task = asyncio.create_task(run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class PeriodicProbe:
    """A dependency checked every `interval` seconds, more slowly (backoff up to 5 s) while it
    does not answer; ready while the last check passed. Subclasses set `name` and `check()`."""

    name = "probe"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.up = False
        self._task = BackgroundTask(f"{self.name}-probe")

    async def check(self) -> bool:
        raise NotImplementedError

    async def _run(self) -> None:
        backoff = Backoff(self.interval, 5.0)
        while True:
            if await self.check():
                backoff.reset()
                await asyncio.sleep(self.interval)
            else:
                await asyncio.sleep(backoff.next())

    @property
    def ready(self) -> bool:
        return self.up

    async def start(self) -> None:
        self._task.start(self._run)

    async def stop(self) -> None:
        await self._task.stop()
