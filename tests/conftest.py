"""Shared fixtures. Unit tests need no services; integration tests get the real PostgreSQL and
Kafka that scripts/test.sh starts, and fail (never skip) when they are missing.

Also the suite-wide log scan: every log record of the run (the root logger at INFO, formatted as
`failsafe serve` formats them, but before any redaction: our code must not log secrets in the
first place), the log files of the processes tests start (`subprocess_log`) and the output they
capture (`scan_output`) are searched at the end of the session for bearer tokens and tickets,
`token=`/`ticket=` values, MRZ lines and the personal data the factories made
(`personal_data`). Any hit fails the run, listing where.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from failsafe.db import migrate
from failsafe.db.engine import create_engine
from failsafe.logging import RedactingFormatter
from failsafe.settings import DatabaseSettings

if TYPE_CHECKING:
    from tests.fixtures.app import RunningApp

PG_ENV = "FAILSAFE_TEST_PG"  # e.g. postgresql://failsafe:failsafe@127.0.0.1:15432
KAFKA_ENV = "FAILSAFE_TEST_KAFKA"  # e.g. 127.0.0.1:19092


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: integration tests need the real services. "
            "Run them with scripts/test.sh (or `make test`), which starts PostgreSQL and Kafka.",
            pytrace=False,
        )
    return value


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def create_database(server: str, name: str) -> str:
    """Create a new, empty PostgreSQL database and return its asyncpg SQLAlchemy URL."""
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{server.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


async def drop_database(server: str, name: str) -> None:
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(autouse=True)
def _gc_as_it_was() -> Iterable[None]:
    """`failsafe screen` freezes the collector's view of its process and turns the collector
    off once the watchlist is loaded (`screening.settle_loaded`); tests run it in this process,
    so undo that after them."""
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
    gc.set_threshold(*thresholds)
    if enabled:
        gc.enable()


@pytest.fixture(scope="session")
def pg_server() -> str:
    return _require(PG_ENV).rstrip("/")


@pytest_asyncio.fixture(scope="session")
async def pg_url(pg_server: str) -> AsyncIterator[str]:
    """A migrated PostgreSQL database for this test run (one per run, dropped at the end)."""
    name = unique_name("failsafe_test")
    url = await create_database(pg_server, name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(scope="session")
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=pg_url))
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def db_session(pg_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test; the code under test may
    commit (commits become savepoints)."""
    async with pg_engine.connect() as conn:
        trans = await conn.begin()
        session = AsyncSession(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await trans.rollback()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The real broker's bootstrap servers (started by scripts/test.sh)."""
    return _require(KAFKA_ENV)


@pytest.fixture
def unique_topic() -> Callable[[str], str]:
    """Topic names unique to the calling test, so tests never see each other's messages."""
    return lambda base: f"{base}.{uuid.uuid4().hex[:10]}"


@pytest_asyncio.fixture
async def fresh_pg_url(pg_server: str) -> AsyncIterator[str]:
    """A migrated PostgreSQL database of this test's own (for tests that load the whole list)."""
    name = unique_name("failsafe_t")
    url = await create_database(pg_server, name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture
async def app(fresh_pg_url: str) -> AsyncIterator[RunningApp]:
    """`failsafe serve`'s app on a fresh migrated PostgreSQL, served by uvicorn on a free port
    (the alert API, hub and dashboard tests)."""
    from tests.fixtures.app import running_app, settings_for

    async with running_app(settings_for(fresh_pg_url)) as running:
        yield running


# -- the suite-wide log scan ----------------------------------------------------------------------

# Names and document numbers the factories put into entries and events (whole words, 4+ chars).
_PERSONAL: set[str] = set()
_LOG_DIR: Path | None = None
_LOG_FILES: list[Path] = []
_LINES: list[tuple[str, str]] = []  # (where, line)

_TOKEN = re.compile(r"\bfst?_[A-Za-z0-9_-]{16,}")
_SECRET_PARAM = re.compile(r"(?i)\b(?:token|ticket)=(?!\[redacted\])[^&\s\"'#;,]+")
_MRZ_RUN = re.compile(r"[A-Z0-9<]{30,}")


def personal_data(*values: str | None) -> None:
    """Register names and document numbers a factory used: the log scan looks for them."""
    for value in values:
        for word in re.findall(r"[^\W_]{4,}", value or ""):
            _PERSONAL.add(word)


def subprocess_log(name: str) -> Path:
    """A file for a started process's stderr (open it for writing): scanned at the session end."""
    global _LOG_DIR
    if _LOG_DIR is None:
        _LOG_DIR = Path(tempfile.mkdtemp(prefix="failsafe-test-logs-"))
    path = _LOG_DIR / f"{len(_LOG_FILES):04d}-{name}.log"
    _LOG_FILES.append(path)
    return path


def scan_output(where: str, text: str) -> None:
    """Output a test captured from a process (its stderr): scanned at the session end."""
    _LINES.extend((where, line) for line in text.splitlines())


def find_leaks(lines: Iterable[tuple[str, str]], personal: Iterable[str]) -> list[str]:
    """Lines with a token or ticket, a `token=`/`ticket=` value, an MRZ line, or one of the
    `personal` strings (as a whole word), each as "where: what: line" (the line cut short)."""
    words = sorted(set(personal), key=len, reverse=True)
    named = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b") if words else None
    found: list[str] = []
    for where, line in lines:
        what = None
        if _TOKEN.search(line):
            what = "token"
        elif _SECRET_PARAM.search(line):
            what = "token= or ticket= value"
        elif any("<<" in run for run in _MRZ_RUN.findall(line)):
            what = "MRZ"
        elif named is not None and (hit := named.search(line)):
            what = f"personal data ({hit.group()!r})"
        if what is not None:
            found.append(f"{where}: {what}: {line[:300]}")
    return found


class _ScanHandler(logging.Handler):
    """Keeps every record, formatted at once (as production's formatter would, less redaction)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 (a broken record must not break the test that logged it)
            return
        _LINES.extend((f"log {record.name}", line) for line in text.splitlines())


_scan_handler = _ScanHandler()


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(_scan_handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)  # what `failsafe serve` logs by default


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_scan_handler)
    lines = list(_LINES)
    for path in _LOG_FILES:
        if path.exists():
            text = path.read_text(errors="replace")
            lines.extend((f"process log {path.name}", line) for line in text.splitlines())
    leaks = find_leaks(lines, _PERSONAL)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"log scan: {len(lines)} log lines, {len(_PERSONAL)} personal strings, "
            f"{len(leaks)} leaks" + (" -- FAILED: the run fails" if leaks else ""),
            red=bool(leaks),
        )
        for leak in leaks[:50]:
            reporter.write_line(f"LOG LEAK {leak}", red=True)
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
