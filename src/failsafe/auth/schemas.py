"""Request and response bodies of the principals API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from failsafe.contract import Role
from failsafe.kit.codes import CountryCode
from failsafe.kit.safe import Text


class PrincipalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: str
    kind: str = Field(description="token (a desk's), officer (a named person), sso (signed in)")
    bureau_code: str | None
    token_prefix: str = Field(description="the token's first characters, to tell tokens apart")
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class PrincipalCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"role": "analyst", "bureau": "FRA", "name": "Lyon desk"}]},
    )

    role: Role
    bureau: CountryCode | None = Field(default=None, description="required except for admins")
    name: Text = Field(min_length=1, max_length=200)


class OfficerCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"bureau": "FRA", "name": "Claire Dupont"}]},
    )

    bureau: CountryCode
    name: Text = Field(min_length=1, max_length=200, description="the officer's display name")
    role: Role = Field(default="bureau", description="any role but admin")


class PrincipalCreated(PrincipalOut):
    token: str = Field(description="the bearer token; shown this once, stored only as a hash")


class PrincipalPage(BaseModel):
    items: list[PrincipalOut]
    next_cursor: str | None = None
