"""Backoff with jitter, state-change logging and the repeat filter (failsafe.kit.retry), and the
check that tells a dependency being away from a data error (failsafe.errors)."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from failsafe.errors import dependency_unavailable
from failsafe.kit.retry import Backoff, OutageLog, RepeatFilter, Throttle, retry


def test_backoff_grows_to_its_cap_with_jitter_and_never_spins() -> None:
    backoff = Backoff(0.5, 10.0)
    delays = [backoff.next() for _ in range(12)]
    assert all(d >= 0.25 for d in delays)  # never a tight loop
    assert 0.25 <= delays[0] <= 0.5
    assert all(5.0 <= d <= 10.0 for d in delays[6:])  # capped
    assert len({round(d, 6) for d in delays[6:]}) > 1  # jittered, not in lock-step
    backoff.reset()
    assert backoff.next() <= 0.5


def test_outage_log_writes_per_state_change_and_a_periodic_summary(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr("failsafe.kit.retry.time.monotonic", lambda: now[0])
    outage = OutageLog(logging.getLogger("t.outage"), "database", summary_every=60)
    with caplog.at_level(logging.INFO, logger="t.outage"):
        for _ in range(1000):  # a thousand failed attempts in 50 s: one line
            outage.failed(ConnectionRefusedError("secret details"))
            now[0] += 0.05
        assert len(caplog.records) == 1
        now[0] += 20  # past the summary interval
        outage.failed(ConnectionRefusedError())
        outage.recovered()
        outage.recovered()  # no state change: nothing
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3, messages
    assert messages[0] == "database unavailable (ConnectionRefusedError); retrying with backoff"
    assert "still unavailable after 70 s (1001 failed attempts" in messages[1]
    assert messages[2].startswith("database back after 70.0 s")
    assert all("secret" not in m for m in messages)  # types only, never messages


def test_repeat_filter_keeps_the_first_and_counts_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr("failsafe.kit.retry.time.monotonic", lambda: now[0])
    flt = RepeatFilter(("aiokafka",), interval=60)

    def record(name: str, msg: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, ("x",), None)

    passed = [flt.filter(record("aiokafka.conn", "Unable connect to %s")) for _ in range(5000)]
    assert passed.count(True) == 1 and passed[0]
    assert flt.filter(record("aiokafka.conn", "another message %s"))  # its own first occurrence
    assert flt.filter(record("failsafe.worker", "ours %s"))  # other loggers untouched
    assert flt.filter(record("failsafe.worker", "ours %s"))
    now[0] = 61
    again = record("aiokafka.conn", "Unable connect to %s")
    assert flt.filter(again)
    assert again.getMessage() == "Unable connect to x [repeated 4999 times in the last 61 s]"


def _wrapped(orig: BaseException) -> DBAPIError:
    return OperationalError("select 1", {}, orig)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
        asyncpg.CannotConnectNowError("starting up"),
        asyncpg.ConnectionDoesNotExistError("closed mid-query"),
        asyncpg.AdminShutdownError("terminating"),
        _wrapped(asyncpg.ConnectionDoesNotExistError("closed mid-query")),
        _wrapped(OSError("network unreachable")),
    ],
)
def test_a_dependency_away_is_unavailable(exc: BaseException) -> None:
    assert dependency_unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        IntegrityError("insert", {}, asyncpg.UniqueViolationError("duplicate")),
        _wrapped(asyncpg.DataError("bad value")),
        ValueError("no"),
        KeyError("k"),
        FileNotFoundError(2, "no such file"),
    ],
)
def test_a_data_error_is_not_unavailable(exc: BaseException) -> None:
    assert not dependency_unavailable(exc)


def test_a_connection_invalidated_by_the_pool_is_unavailable() -> None:
    exc = DBAPIError("select 1", {}, Exception("gone"), connection_invalidated=True)
    assert dependency_unavailable(exc)


def test_throttle_passes_once_per_interval_and_counts_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr("failsafe.kit.retry.time.monotonic", lambda: now[0])
    throttle = Throttle(10.0)
    assert throttle.passes() and throttle.skipped == 0
    assert [throttle.passes() for _ in range(500)].count(True) == 0
    now[0] = 10.5
    assert throttle.passes() and throttle.skipped == 500


async def test_retry_until_success_logs_the_outage_once_and_backs_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []
    waits: list[float] = []
    cleaned: list[str] = []

    async def attempt() -> str:
        calls.append(len(calls))
        if len(calls) < 4:
            raise OSError("refused")
        return "connected"

    async def on_failure(exc: Exception) -> None:
        cleaned.append(type(exc).__name__)

    async def wait(delay: float) -> None:
        waits.append(delay)

    with caplog.at_level(logging.WARNING):
        result = await retry(
            attempt,
            outage=OutageLog(logging.getLogger("t"), "thing"),
            retry_on=(OSError,),
            backoff=Backoff(0.5, 10.0),
            on_failure=on_failure,
            wait=wait,
        )
    assert result == "connected" and len(calls) == 4
    assert cleaned == ["OSError"] * 3
    assert len(waits) == 3 and waits[2] >= 1.0  # growing delays, never a spin
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "thing unavailable (OSError); retrying with backoff",
        lines[1],
    ] and lines[1].startswith("thing back after")


async def test_retry_lets_other_errors_and_a_giving_up_callback_through() -> None:
    async def data_error() -> None:
        raise ValueError("not an outage")

    outage = OutageLog(logging.getLogger("t"), "thing")
    with pytest.raises(ValueError):
        await retry(data_error, outage=outage, retry_on=(OSError,))
    assert not outage.down

    async def away() -> None:
        raise OSError("refused")

    async def give_up(exc: Exception) -> None:
        raise RuntimeError("stopping") from exc

    with pytest.raises(RuntimeError, match="stopping"):
        await retry(away, outage=outage, retry_on=(OSError,), on_failure=give_up)
