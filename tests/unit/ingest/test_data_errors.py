"""Which failures of a later step are the data's fault (dead-letter the event) and which are an
outage or a deployment fault (retry the batch, dead-letter nothing)."""

from __future__ import annotations

import pytest
from aiokafka.errors import KafkaConnectionError
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StatementError,
)

from failsafe.ingest.pipeline import is_data_error


class DriverError(Exception):
    """What the asyncpg dialect raises, with the server's SQLSTATE."""

    def __init__(self, sqlstate: str | None, cause: BaseException | None = None) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate
        self.__cause__ = cause


def dbapi(sqlstate: str | None, cause: BaseException | None = None, **kw: bool) -> DBAPIError:
    return DBAPIError("INSERT", {}, DriverError(sqlstate, cause), **kw)


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(dbapi("22021"), id="NUL in text"),
        pytest.param(dbapi("22P05"), id="NUL in jsonb"),
        pytest.param(dbapi("22008"), id="timestamp out of range"),
        pytest.param(dbapi(None, ValueError("bad argument")), id="driver refused a parameter"),
        pytest.param(DataError("INSERT", {}, DriverError("22003")), id="DataError"),
        pytest.param(StatementError("bind", "INSERT", {}, TypeError("Integer exceeds 64-bit")),
                     id="JSON serializer refused a value"),
        pytest.param(OverflowError("date value out of range"), id="our code on the data"),
        pytest.param(KeyError("x"), id="a bug on this event"),
    ],
)
def test_the_data_s_fault_is_dead_lettered(exc: BaseException) -> None:
    assert is_data_error(exc)


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(OperationalError("INSERT", {}, ConnectionResetError()), id="connection lost"),
        pytest.param(InterfaceError("INSERT", {}, DriverError("08003")), id="connection closed"),
        pytest.param(dbapi("22021", connection_invalidated=True), id="invalidated connection"),
        pytest.param(dbapi("57014"), id="statement timeout"),
        pytest.param(dbapi("40001"), id="serialization failure"),
        pytest.param(dbapi(None, ConnectionRefusedError()), id="connection refused"),
        pytest.param(IntegrityError("INSERT", {}, DriverError("23505")), id="concurrent writer"),
        pytest.param(ProgrammingError("INSERT", {}, DriverError("42P01")), id="missing table"),
        pytest.param(ConnectionRefusedError(), id="OSError"),
        pytest.param(TimeoutError(), id="timeout"),
        pytest.param(KafkaConnectionError(), id="Kafka"),
    ],
)
def test_outages_and_deployment_faults_are_retried(exc: BaseException) -> None:
    assert not is_data_error(exc)
