"""Gap-free, commit-ordered numbers (watchlist revision, alert id) from one-row counters.

A database sequence is not commit-ordered: with two writers, the transaction that took 104 may
commit after the one that took 105, and a reader resuming after 105 would never see 104. Taking the
next value by UPDATE on a counter row, as the last statement of the writing transaction, makes the
row lock order the committers: numbers become visible in the order they were taken, with no gaps.
Keep the time between `next_value` and commit short: every other writer waits on that row.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from failsafe.db.models import Counter

WATCHLIST_REVISION = "watchlist_revision"
ALERT_ID = "alert_id"
COUNTERS = (WATCHLIST_REVISION, ALERT_ID)


async def next_value(session: AsyncSession, name: str, n: int = 1) -> int:
    """Reserve n values and return the last one (the first is `result - n + 1`)."""
    result = await session.execute(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + n)
        .returning(Counter.value)
    )
    value = result.scalar_one_or_none()
    if value is None:
        raise RuntimeError(f"counter {name!r} missing: run `failsafe db upgrade`")
    return int(value)


async def current_value(session: AsyncSession, name: str) -> int:
    value = await session.scalar(select(Counter.value).where(Counter.name == name))
    return int(value or 0)
