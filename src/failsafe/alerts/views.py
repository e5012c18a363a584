"""The alert as the contract shows it (docs/contracts.md "Alert"), built from a stored row.

One view for the recorder, the API, the bus and the hub: the stored payload with the row's current
status and update time.
"""

from __future__ import annotations

from typing import cast

from failsafe.contract import AlertView
from failsafe.db.models import Alert


def alert_view(alert: Alert) -> AlertView:
    """The alert contract JSON of a stored alert (its payload with the current status)."""
    # The payload is the AlertView the recorder built (failsafe.alerts.recorder); the row's
    # columns are authoritative for what changes after it.
    return cast(
        AlertView,
        {
            **alert.payload,
            "id": alert.id,
            # watchlist_hit | radiation_alarm (an object not yet flushed has no default).
            "kind": alert.kind or "watchlist_hit",
            "status": alert.status,
            "updated_at": alert.updated_at.isoformat(),
        },
    )
