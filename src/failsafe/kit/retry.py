"""Retrying a dependency that went away (PostgreSQL, Kafka) without burning CPU or flooding the log.

- `retry`: call an attempt until it succeeds, with `Backoff` between failures and an `OutageLog`
  for the lines: the one retry loop of the Kafka producer, the alert bus's consumer, the ingest
  worker, the watchlist follower and the hub.
- `Backoff`: exponential delays with jitter, never below half the nominal delay, so no retry loop
  spins however fast its attempts fail (a refused connection fails in microseconds), and many
  processes retrying the same broker do not hit it in lock-step.
- `OutageLog`: one line when a dependency goes away, one when it is back (with how long it was
  away), and in between a summary at most every `summary_every` seconds; never a line per
  attempt. An outage of hours writes a few dozen lines.
- `Throttle`: at most one line per interval for events that repeat per request (a 503 while a
  dependency is away), with the count of those not logged.
- `RepeatFilter`: a logging filter for third-party loggers that log every failed attempt
  themselves (aiokafka writes an ERROR per reconnect, thousands a second in a tight loop). The
  first occurrence of each message passes; repeats within `interval` are counted and dropped,
  and the next one after it passes with the count of those dropped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Backoff:
    """Delays of `initial`, 2×, 4×… up to `cap` seconds, each drawn uniformly from [d/2, d]."""

    def __init__(self, initial: float = 0.5, cap: float = 10.0) -> None:
        self.initial = initial
        self.cap = cap
        self.attempt = 0

    def next(self) -> float:
        nominal = min(self.cap, self.initial * 2 ** min(self.attempt, 30))
        self.attempt += 1
        return random.uniform(nominal / 2, nominal)  # noqa: S311 (jitter, not cryptography)

    def reset(self) -> None:
        self.attempt = 0


async def retry(
    attempt: Callable[[], Awaitable[T]],
    *,
    outage: OutageLog,
    retry_on: tuple[type[Exception], ...] = (Exception,),
    backoff: Backoff | None = None,
    on_failure: Callable[[Exception], Awaitable[None]] | None = None,
    describe: Callable[[Exception], Awaitable[BaseException | str]] | None = None,
    wait: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """`attempt()`'s result, calling it again after each failure of a `retry_on` kind.

    Between attempts: `on_failure(exc)` (clean up, count; it may raise to give up), one line in
    `outage` (not one per attempt), then `wait(delay)` with the next `backoff` delay (`wait` may
    return early, e.g. when a stop is requested). Other exceptions, and cancellation, propagate at
    once. `describe(exc)` may say better than the exception's type why it failed (logged as is:
    it must not quote data). On success the outage is marked over."""
    backoff = backoff or Backoff()
    while True:
        try:
            result = await attempt()
        except retry_on as exc:
            if on_failure is not None:
                await on_failure(exc)
            outage.failed(exc if describe is None else await describe(exc))
            await wait(backoff.next())
            continue
        outage.recovered()
        return result


class OutageLog:
    """State-change logging for one dependency as one caller sees it (`what`)."""

    def __init__(self, logger: logging.Logger, what: str, summary_every: float = 60.0) -> None:
        self.logger = logger
        self.what = what
        self.summary_every = summary_every
        self.down_since: float | None = None
        self.failures = 0
        self._last_line = 0.0
        self._last_error = ""

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException | str) -> None:
        # The exception's type only: messages may quote data (no personal data in logs).
        reason = exc if isinstance(exc, str) else type(exc).__name__
        now = time.monotonic()
        self.failures += 1
        self._last_error = reason
        if self.down_since is None:
            self.down_since = self._last_line = now
            self.logger.warning("%s unavailable (%s); retrying with backoff", self.what, reason)
        elif now - self._last_line >= self.summary_every:
            self._last_line = now
            self.logger.warning(
                "%s still unavailable after %.0f s (%d failed attempts, last: %s)",
                self.what,
                now - self.down_since,
                self.failures,
                reason,
            )

    def recovered(self) -> None:
        if self.down_since is not None:
            self.logger.warning(
                "%s back after %.1f s (%d failed attempts)",
                self.what,
                time.monotonic() - self.down_since,
                self.failures,
            )
        self.down_since = None
        self.failures = 0


class Throttle:
    """`passes()` is true at most once per `interval` seconds; `skipped` then holds how many
    calls did not pass since the previous one that did."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self.skipped = 0
        self._count = 0
        self._last: float | None = None

    def passes(self) -> bool:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.interval:
            self._count += 1
            return False
        self._last = now
        self.skipped, self._count = self._count, 0
        return True


class RepeatFilter(logging.Filter):
    """Rate-limits records of the loggers under `prefixes`, per (logger, message template)."""

    def __init__(self, prefixes: tuple[str, ...] = ("aiokafka",), interval: float = 60.0) -> None:
        super().__init__()
        self.prefixes = prefixes
        self.interval = interval
        # (logger, template) -> (time the last line passed, repeats dropped since)
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefixes):
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.interval:
            self._seen[key] = (seen[0], seen[1] + 1)
            return False
        if seen is not None and seen[1]:
            ago = now - seen[0]
            record.msg = f"{record.msg} [repeated {seen[1]} times in the last {ago:.0f} s]"
        if len(self._seen) > 10_000:  # templates are few; bound it anyway
            self._seen.clear()
        self._seen[key] = (now, 0)
        return True
