"""Who acts, as services see it: a principal, or the operator at the command line.

A leaf module (it imports only failsafe.contract), so that every domain's service can take an
`Actor` without importing failsafe.auth, and auth's own services can call the audit log without
a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class _PrincipalLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def bureau_code(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a principal's id, role and bureau (None for admins and the CLI)."""

    id: str
    role: str
    bureau_code: str | None

    @classmethod
    def of(cls, principal: _PrincipalLike) -> Actor:
        return cls(id=principal.id, role=principal.role, bureau_code=principal.bureau_code)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# The `failsafe` CLI runs with the operator's database credentials: it acts as an admin.
CLI_ACTOR = Actor(id="cli", role="admin", bureau_code=None)
