"""The alarm worker's retry loop is failsafe.kit.retry's (issue 11): a failing dependency is
retried until it answers, the producers' held sends are dropped at each failure, and a stop
requested while the dependency is away ends the wait and gives up with the failure."""

from __future__ import annotations

import asyncio

import pytest

from failsafe.alarms.worker import AlarmWorker
from failsafe.settings import Settings


def _worker() -> tuple[AlarmWorker, list[str]]:
    worker = AlarmWorker(Settings())
    resets: list[str] = []

    async def reset() -> None:
        resets.append("reset")

    worker._resets = [reset]
    return worker, resets


async def test_retries_until_the_dependency_answers() -> None:
    worker, resets = _worker()
    attempts = 0

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise OSError("connection refused")
        return "ok"

    assert await worker._retrying("test", flaky) == "ok"
    assert attempts == 3
    assert resets == ["reset", "reset"]
    assert worker.ready is False  # marked unready by the failures; run() sets it back


async def test_a_stop_during_the_outage_gives_up_with_the_failure() -> None:
    worker, resets = _worker()
    attempts = 0

    async def down() -> None:
        nonlocal attempts
        attempts += 1
        raise ConnectionError("broker away")

    task = asyncio.create_task(worker._retrying("test", down))
    await asyncio.sleep(0)  # the first attempt fails; the loop waits its backoff
    worker.request_stop()
    with pytest.raises(ConnectionError, match="broker away"):
        await asyncio.wait_for(task, 5)
    assert attempts == 1  # the wait ended at the stop; no attempt after it
    assert resets == ["reset"]


async def test_other_failures_are_not_retried() -> None:
    worker, _ = _worker()

    async def bug() -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        await worker._retrying("test", bug)
