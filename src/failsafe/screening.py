"""`failsafe screen`: batch screening of JSONL events against a JSONL watchlist, offline.

Output: one JSON line per event, in input order,
`{"event_id": ..., "matches": [{"entry_id", "score", "method", "explanation"}]}` (best first,
only scores >= threshold, at most --limit), plus `"flags"` when the event's MRZ disagreed with
its fields. Events are validated exactly as `POST /v1/events` and the ingest worker do
(`failsafe.ingest.events.parse_event`: the schema and the edge checks; the common shape is
checked by `failsafe.screening_events.fast_event`, never looser). An event line that
cannot be screened (invalid, or failing in the engine) still gets its line,
`{"event_id": <id or null>, "line": N, "error": "<reason>"}` and no `matches` key, so output
stays aligned with input and a failure never reads as "no match". Every bad line (watchlist or
events) is reported on stderr as `FILE:LINE: reason`; no names or other personal data are ever
printed there. The exit status is 1 when any line was bad, else 0; and 2, before any event is
read and with no output line, when the watchlist holds no usable entry (empty, every line bad,
or nothing active): screening against nothing would read as "all clear".
Watchlist dates of birth are read with the watchlist's own schema (`subject.dates_of_birth`,
the `date_of_birth` shorthand first): a line with an unreadable one is a bad line.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import orjson
import typer

from failsafe.errors import InvalidEvent
from failsafe.ingest.events import parse_event
from failsafe.kit.codes import subject_dates
from failsafe.matching import DEFAULT_THRESHOLD, WatchlistIndex, apply_mrz, entry_from_dict
from failsafe.matching.types import query_from_event
from failsafe.screening_events import fast_event

_OUT_CHUNK = 512


@dataclass(slots=True)
class Stats:
    lines: int = 0
    ok: int = 0
    bad: int = 0
    skipped: int = 0  # watchlist: inactive or expired entries


def _report(err: Callable[[str], None], source: str, lineno: int, kind: str) -> None:
    err(f"{source}:{lineno}: {kind}")


def load_watchlist(
    index: WatchlistIndex,
    lines: Iterable[bytes],
    source: str = "watchlist",
    err: Callable[[str], None] | None = None,
) -> Stats:
    """Bulk-load JSONL watchlist entries into `index`, reporting bad lines to `err`."""
    report = err or _stderr
    stats = Stats()

    def records() -> Iterable[Any]:
        for lineno, line in enumerate(lines, 1):
            if not line or line.isspace():  # `not line.strip()`, without a copy of the line
                continue
            stats.lines += 1
            try:
                d = orjson.loads(line)
            except orjson.JSONDecodeError:
                stats.bad += 1
                _report(report, source, lineno, "invalid JSON")
                continue
            if not isinstance(d, dict):
                stats.bad += 1
                _report(report, source, lineno, "not a JSON object")
                continue
            if d.get("id") in (None, ""):
                stats.bad += 1
                _report(report, source, lineno, "missing id")
                continue
            subject = d.get("subject")
            if isinstance(subject, dict):
                # The watchlist's own date grammar, as the API and import apply it. In place:
                # `d` is this line's own parse, nothing else holds it.
                try:
                    subject.update(subject_dates(subject))
                except ValueError:
                    stats.bad += 1
                    _report(report, source, lineno, "invalid date of birth")
                    continue
            try:
                rec = entry_from_dict(d)
            except (TypeError, ValueError, AttributeError):
                stats.bad += 1
                _report(report, source, lineno, "wrong field types")
                continue
            if rec is None:
                stats.skipped += 1
                continue
            stats.ok += 1
            yield rec

    index.add_many(records())
    return stats


def settle_loaded() -> None:
    """For a process that loads its watchlist once and then only screens (`failsafe screen`):
    keep Python's cyclic garbage collector from walking the index and the token cache.

    The load leaves ~1.5 million containers at 100k entries (collection is paused while it
    runs, `WatchlistIndex.add_many`); `gc.freeze` moves them out of every collection. The first
    pass then fills the token cache with unions of postings (millions of set elements), and
    the young generations' collections walk each of those sets once or twice on its way to the
    old one: 0.9 s of a 7.8 s first pass at 100k entries (docs/matching.md, speed round 5),
    for nothing, because screening makes no reference cycles: what it drops, reference
    counting frees (tests/unit/test_screening_gc.py screens good and hostile lines with the
    collector off and finds no cyclic garbage). So the collector is turned off. (Before: the
    oldest generation's threshold 10 -> 100, which cut the full collections' 2.8-3.6 s.)

    Not for a process that replaces its index (the service): frozen objects are never
    collected, so an index frozen and then dropped would stay in memory."""
    gc.freeze()
    gc.disable()


def screen_lines(
    index: WatchlistIndex,
    lines: Iterable[bytes],
    write: Callable[[bytes], Any],
    threshold: float = DEFAULT_THRESHOLD,
    limit: int = 10,
    source: str = "events",
    err: Callable[[str], None] | None = None,
) -> Stats:
    """Screen JSONL events, writing one JSON line per event through `write`."""
    report = err or _stderr
    stats = Stats()
    dumps = orjson.dumps
    out: list[bytes] = []
    for lineno, line in enumerate(lines, 1):
        if not line or line.isspace():  # `not line.strip()` without the copy
            continue
        stats.lines += 1
        result: dict[str, Any]
        try:
            # The common shape is checked by hand (never looser than the schema); anything
            # else goes through the event schema itself, which accepts it or says why not.
            d = fast_event(line) or parse_event(line).to_json_dict()
        except InvalidEvent as exc:
            stats.bad += 1
            _report(report, source, lineno, exc.message)
            result = {"event_id": _event_id_of(line), "line": lineno, "error": exc.message}
        else:
            flags: list[str] = []
            try:
                if d.get("mrz"):
                    d, flags = apply_mrz(d)
                matches = index.screen(query_from_event(d), threshold, limit)
            except (TypeError, ValueError, AttributeError):
                stats.bad += 1
                _report(report, source, lineno, "wrong field types")
                result = {"event_id": d.get("event_id"), "line": lineno,
                          "error": "wrong field types"}
            else:
                stats.ok += 1
                result = {"event_id": d["event_id"], "matches": [m.to_dict() for m in matches]}
                if flags:
                    result["flags"] = flags
        out.append(dumps(result))
        if len(out) >= _OUT_CHUNK:
            write(b"\n".join(out) + b"\n")
            out.clear()
    if out:
        write(b"\n".join(out) + b"\n")
    return stats


def _event_id_of(line: bytes) -> str | None:
    """The event id of an invalid line, when it has a usable one (for the output line)."""
    try:
        d = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    eid = d.get("event_id") if isinstance(d, dict) else None
    if isinstance(eid, str) and 0 < len(eid) <= 128 and "\x00" not in eid:
        return eid
    return None


def _stderr(message: str) -> None:
    sys.stderr.write(message + "\n")


def screen(
    watchlist: Annotated[Path, typer.Option(
        "--watchlist", help="Watchlist entries, JSONL.", exists=True, dir_okay=False,
        readable=True)],
    events: Annotated[Path | None, typer.Option(
        "--events", help="Events, JSONL [default: stdin].", exists=True, dir_okay=False,
        readable=True)] = None,
    threshold: Annotated[float, typer.Option(
        "--threshold", min=0.0, max=1.0, help="Report matches scoring at least this.")
    ] = DEFAULT_THRESHOLD,
    limit: Annotated[int, typer.Option(
        "--limit", min=1, help="At most this many matches per event.")] = 10,
) -> None:
    """Screen events (JSONL) against a watchlist (JSONL); one JSON line out per event."""
    index = WatchlistIndex()
    with watchlist.open("rb") as fh:
        wstats = load_watchlist(index, fh, source=str(watchlist))
    if len(index) == 0:
        _stderr(
            f"error: no usable watchlist entry in {watchlist} ({wstats.lines} entries read: "
            f"{wstats.bad} bad, {wstats.skipped} inactive or expired); refusing to screen, "
            "as every traveller would read as clear"
        )
        raise typer.Exit(2)
    settle_loaded()
    out: BinaryIO = sys.stdout.buffer
    if events is None:
        estats = screen_lines(index, sys.stdin.buffer, out.write, threshold, limit, "<stdin>")
    else:
        with events.open("rb") as fh:
            estats = screen_lines(index, fh, out.write, threshold, limit, str(events))
    out.flush()
    _stderr(
        f"screened {estats.ok} events ({estats.bad} bad lines) against {len(index)} entries "
        f"({wstats.bad} bad lines, {wstats.skipped} inactive or expired)"
    )
    if wstats.bad or estats.bad:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `screen` command to the main CLI."""
    app.command("screen")(screen)
