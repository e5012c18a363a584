"""The pipeline itself (embedded mode, SQLite): one event the engine fails on is dead-lettered
and the rest of the batch is screened; MRZ data fills in what the sender left out."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from failsafe.db import migrate
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.ingest.follower import WatchlistFollower
from failsafe.ingest.pipeline import Pipeline, RawRecord, Rejection
from failsafe.kit.bus import MemoryAlertBus
from failsafe.matching.index import WatchlistIndex
from failsafe.settings import DatabaseSettings
from tests.fixtures.factories import entry_doc, event, put_entry


class Dlq:
    def __init__(self) -> None:
        self.sent: list[Rejection] = []

    async def send(self, rejections: Sequence[Rejection]) -> None:
        self.sent.extend(rejections)


class BrokenOnOne(WatchlistIndex):
    """The real index, except that it fails on one traveller (as a bug would)."""

    def screen(self, query: Any, threshold: float = 0.8, limit: int | None = 10) -> Any:
        # The pipeline hands the matcher its own Query (failsafe.ingest.screener).
        if any("CRASH" in name.tokens for name in query.names):
            raise KeyError("CRASH TRAVELLER")
        return super().screen(query, threshold=threshold, limit=limit)


@pytest.fixture
async def pipeline(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(DatabaseSettings(url=url))
    sessions = create_sessionmaker(engine)
    follower = WatchlistFollower(sessions, BrokenOnOne())
    dlq = Dlq()
    yield Pipeline(sessions, follower, MemoryAlertBus(), dlq), sessions, dlq
    await engine.dispose()


async def test_an_event_the_engine_fails_on_is_dead_lettered_and_the_batch_goes_on(
    pipeline: Any, caplog: pytest.LogCaptureFixture
) -> None:
    pipe, sessions, dlq = pipeline
    entry = await put_entry(sessions, entry_doc("OKAFOR", "EMEKA", dob="1968-10-10"))
    await pipe.follower.load()
    crash = event("CRASH", "TEST")
    hit = event("OKAFOR", "EMEKA", dob="1968-10-10")
    out = await pipe.process([RawRecord(orjson.dumps(e)) for e in (crash, hit)])
    assert out.accepted == [hit["event_id"]]
    assert [(r.index, r.reason) for r in dlq.sent] == [(0, "processing error: KeyError")]
    assert [a["entry"]["id"] for a in out.alerts] == [entry["id"]]
    assert "CRASH TRAVELLER" not in caplog.text  # the message may hold personal data


async def test_mrz_fills_the_traveller_and_flags_disagreements(pipeline: Any) -> None:
    pipe, sessions, _ = pipeline
    entry = await put_entry(
        sessions,
        entry_doc(
            "ERIKSSON",
            "ANNA MARIA",
            dob="1974-08-12",
            documents=[{"type": "P", "number": "L898902C3", "issuing_state": "UTO"}],
        ),
    )
    await pipe.follower.load()
    ev = event("", "", country="SWE")
    ev["traveller"] = {"surname": "ERIKSON"}  # misspelt by the sender; MRZ is authoritative
    ev["mrz"] = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ]
    out = await pipe.process([RawRecord(orjson.dumps(ev))])
    (alert,) = out.alerts
    assert alert["entry"]["id"] == entry["id"]
    assert alert["method"] == "document"
    assert any(f.startswith("mrz_mismatch") for f in alert["quality_flags"])


class RecordingBus(MemoryAlertBus):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[int]] = []

    async def publish(self, alerts: Sequence[dict[str, Any]]) -> None:
        self.calls.append([int(a["id"]) for a in alerts])
        await super().publish(alerts)


async def test_hits_are_published_without_waiting_for_the_rest_of_the_batch(
    pipeline: Any,
) -> None:
    pipe, sessions, _ = pipeline
    pipe.bus = bus = RecordingBus()
    pipe.alert_within = 0.0  # record every hit at once
    entry = await put_entry(sessions, entry_doc("OKAFOR", "EMEKA", dob="1968-10-10"))
    await pipe.follower.load()
    events = [event("OKAFOR", "EMEKA", dob="1968-10-10")]
    events += [event(f"NOBODY{i}", "X") for i in range(8)]
    events += [event("OKAFOR", "EMEKA", dob="1968-10-10")]
    out = await pipe.process([RawRecord(orjson.dumps(e)) for e in events])
    # The first hit went out before the rest of the batch was screened.
    assert bus.calls == [[1], [2]]
    assert [a["id"] for a in out.alerts] == [1, 2]
    assert {a["entry"]["id"] for a in out.alerts} == {entry["id"]}
    assert (out.hits, out.created) == (2, 2)
