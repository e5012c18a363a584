"""Project Stone (issue 12): radiation alarms at crossing points, linked in PostgreSQL to the
travellers who passed the alarmed lane and to the watchlist hits among them.

schemas (contract `failsafe.alarm/v1`), n42 (N42.42-2012 XML to that shape, parsed safely),
rules (the correlation rules, pure), correlation (the meeting of alarms and lane crossings,
exactly once), evidence (the alarm alert built from its links), service (intake and the crossing
observer), review (queries and adjudication), deps and router (`/v1/alarms`), worker
(`failsafe ingest-alarms`). See docs/alarms.md.
"""
