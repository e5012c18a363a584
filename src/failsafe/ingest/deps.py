"""FastAPI dependencies of the ingest domain: the screening service, typed.

Routers take `ScreeningDep` (503 while this process runs no screening service) or
`OptionalScreeningDep` (None then) instead of looking the service up in `AppState.services`
themselves: the kit layer below every domain cannot name `ScreeningService`, so the alias lives
here, beside the service it finds.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from failsafe.errors import Unavailable
from failsafe.ingest.service import ScreeningService
from failsafe.kit.state import StateDep


def find_screening(state: StateDep) -> ScreeningService | None:
    return state.services.find(ScreeningService)


OptionalScreeningDep = Annotated[ScreeningService | None, Depends(find_screening)]


def get_screening(service: OptionalScreeningDep) -> ScreeningService:
    """The screening service; 503 when this process does not run one."""
    if service is None:
        raise Unavailable("the screening service is not running")
    return service


ScreeningDep = Annotated[ScreeningService, Depends(get_screening)]
