"""FastAPI dependencies of the hub domain: this replica's hub, typed.

`HubDep` is the hub, or None in a process that runs none (the stream endpoint then closes the
socket with "try again later" rather than failing the handshake). Routers take it instead of
looking the hub up in `AppState.services`: the kit layer cannot name `Hub`, so the alias is here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from failsafe.hub.service import Hub
from failsafe.kit.state import StateDep


def find_hub(state: StateDep) -> Hub | None:
    return state.services.find(Hub)


HubDep = Annotated[Hub | None, Depends(find_hub)]
