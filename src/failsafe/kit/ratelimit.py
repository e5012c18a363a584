"""A per-client-address count of failed authentications (a sliding one-minute window, in memory).

It counts failures only; what an address over its budget may still do (a valid token still
authenticates, a failing one gets 429) is decided in failsafe.auth.deps.authenticate_limited.
The address is the one uvicorn resolved: the peer, or the forwarded client behind a trusted
proxy (`server.forwarded_allow_ips`).

In memory is enough: each `serve` replica limits its own share of an attacker's attempts, and a
restart forgetting the window only gives back a minute. Memory is bounded by `max_clients`.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class FailureLimiter:
    def __init__(
        self,
        max_failures: int,
        *,
        window: float = WINDOW_SECONDS,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        stamps = self._failures.get(client)
        if stamps is None:
            return None
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[client]
            return None
        return stamps

    def retry_after(self, client: str) -> float:
        """Seconds until `client` may try again; 0 when it is not blocked."""
        now = self._clock()
        stamps = self._recent(client, now)
        if stamps is None or len(stamps) < self.max_failures:
            return 0.0
        return max(0.0, stamps[0] + self.window - now)

    def record_failure(self, client: str) -> None:
        now = self._clock()
        stamps = self._recent(client, now)
        if stamps is None:
            # Bound the number of tracked addresses: forget the least recently failing one.
            if len(self._failures) >= self.max_clients:
                self._failures.popitem(last=False)
            stamps = deque(maxlen=self.max_failures)
            self._failures[client] = stamps
        else:
            self._failures.move_to_end(client)
        stamps.append(now)
