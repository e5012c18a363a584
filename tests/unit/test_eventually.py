"""`tests.fixtures.waiting.eventually`, which every wait in the suite relies on: it returns the
first truthy value, takes sync and async checks, lets a check's exception through at once, and
fails with a TimeoutError that says what it waited for."""

from __future__ import annotations

import itertools

import pytest

from tests.fixtures.waiting import eventually


async def test_returns_the_first_truthy_value_of_a_sync_or_async_check() -> None:
    counter = itertools.count()
    assert await eventually(lambda: next(counter) >= 3 and "done", interval=0) == "done"

    calls = itertools.count()

    async def check() -> list[int]:
        n = next(calls)
        return [n] if n == 2 else []

    assert await eventually(check, interval=0) == [2]


async def test_a_check_that_raises_stops_the_wait_at_once() -> None:
    def broken() -> bool:
        raise RuntimeError("the worker stopped")

    with pytest.raises(RuntimeError, match="the worker stopped"):
        await eventually(broken, timeout=30)


async def test_times_out_naming_what_it_waited_for() -> None:
    with pytest.raises(TimeoutError, match=r"not within 0.1s: the follower \(last value 0\)"):
        await eventually(lambda: 0, timeout=0.1, interval=0.01, what="the follower")
